import type { NormalizedEvent } from '@cdp/contracts';
import { identifierDigest, type Identifier } from '@cdp/identity-graph';
import type { IdentitiesRepository, IdentityDoc } from '../identities.repository';
import type {
  AbsorbedProfile,
  IdentityProfileDoc,
  IdentityProfilesRepository,
  MergeInfo,
  MergeOutcome,
} from '../identity-profiles.repository';
import { countByType, mergesAddedBy, withinCaps, type CountCaps } from '../count-guards';
import { ResolverService } from '../resolver.service';

/**
 * In-memory stand-ins for the two graph repositories, with the same single-document semantics
 * as the MongoDB ones (each call yields to the event loop, so concurrent resolutions interleave).
 * For unit and property tests of ResolverService; the integration tests use the real ones.
 */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
/** As the repository's `$inc` of countsVersion: only when some count changes. */
const bump = (doc: IdentityProfileDoc, counts: Record<string, number>, merges = 0) => {
  if (merges !== 0 || Object.values(counts).some((n) => n !== 0)) doc.countsVersion = (doc.countsVersion ?? 0) + 1;
};

export class FakeIdentities {
  readonly docs = new Map<string, IdentityDoc>();
  private key = (ws: string, id: Identifier) => JSON.stringify([ws, id.type, id.value]);
  async findMany(ws: string, ids: Identifier[]): Promise<IdentityDoc[]> {
    await tick();
    return ids.flatMap((id) => this.docs.get(this.key(ws, id)) ?? []).map((d) => ({ ...d }));
  }
  async get(ws: string, id: Identifier): Promise<IdentityDoc | null> {
    await tick();
    return this.docs.get(this.key(ws, id)) ?? null;
  }
  async claim(ws: string, id: Identifier, profileId: string, createdAt = new Date()): Promise<string> {
    await tick();
    const k = this.key(ws, id);
    if (!this.docs.has(k)) this.docs.set(k, { workspaceId: ws, type: id.type, value: id.value, profileId, createdAt });
    return (this.docs.get(k) as IdentityDoc).profileId;
  }
  async claimMany(ws: string, ids: Identifier[], profileId: string, createdAt = new Date()): Promise<string[]> {
    await tick();
    return Promise.all(ids.map((id) => this.claim(ws, id, profileId, createdAt)));
  }
}

const copy = (d: IdentityProfileDoc): IdentityProfileDoc => ({
  ...d,
  merge: d.merge ? { ...d.merge } : null,
  counts: { ...d.counts },
  counted: [...d.counted],
  absorbed: [...d.absorbed],
  ...(d.stamps ? { stamps: { ...d.stamps } } : {}),
  ...(d.absorbedFrom ? { absorbedFrom: { ...d.absorbedFrom } } : {}),
});

export class FakeProfiles {
  readonly docs = new Map<string, IdentityProfileDoc>();
  async findMany(ws: string, ids: string[]): Promise<IdentityProfileDoc[]> {
    await tick();
    return ids.flatMap((id) => this.docs.get(`${ws}/${id}`) ?? []).map(copy);
  }
  async ensure(ws: string, profileId: string, createdAt: Date): Promise<void> {
    await tick();
    const k = `${ws}/${profileId}`;
    if (!this.docs.has(k))
      this.docs.set(k, { workspaceId: ws, profileId, createdAt, mergedInto: null, merge: null, counts: {}, counted: [], absorbed: [] });
  }
  async markMerged(ws: string, from: string, into: string, merge: MergeInfo, countsVersion: number | undefined): Promise<MergeOutcome> {
    await tick();
    const doc = this.docs.get(`${ws}/${from}`);
    if (doc && doc.mergedInto === null && doc.countsVersion === countsVersion) {
      Object.assign(doc, { mergedInto: into, merge });
      return { status: 'merged', merge };
    }
    return doc?.mergedInto === into && doc.merge ? { status: 'already', merge: doc.merge } : { status: 'conflict' };
  }
  async absorbCounts(ws: string, into: string, from: AbsorbedProfile, caps: CountCaps, mergesCap = Infinity): Promise<boolean> {
    await tick();
    const doc = this.docs.get(`${ws}/${into}`);
    if (!doc) return true;
    const version = from.countsVersion ?? 0;
    const before = doc.absorbedFrom?.[from.profileId];
    if (doc.absorbed.includes(from.profileId)) {
      // Absorbed before versions were kept, or at this version: done; at a newer one: refused.
      if (!before || before.version === version) return true;
      if (before.version > version) return false;
    }
    // Absorbed at an older version: ours replaces it (the caps widened by what it had added).
    const replaced = before?.counts ?? {};
    const widened = Object.fromEntries(Object.entries(caps).map(([t, cap]) => [t, cap + (replaced[t] ?? 0)]));
    const mergesBefore = before ? mergesAddedBy(before) : 0;
    if (doc.mergedInto !== null || !withinCaps(doc.counts, widened) || (doc.merges ?? 0) > mergesCap + mergesBefore) return false;
    if (!before) doc.absorbed.push(from.profileId);
    const delta = Object.fromEntries(
      [...new Set([...Object.keys(from.counts), ...Object.keys(replaced)])].map((t) => [t, (from.counts[t] ?? 0) - (replaced[t] ?? 0)]),
    );
    for (const [t, n] of Object.entries(delta)) doc.counts[t] = (doc.counts[t] ?? 0) + n;
    const merges = 1 + (from.merges ?? 0) - mergesBefore;
    doc.merges = (doc.merges ?? 0) + merges;
    bump(doc, delta, merges);
    doc.stamps = { ...doc.stamps, ...from.stamps };
    doc.absorbedFrom = { ...doc.absorbedFrom, [from.profileId]: { version, counts: { ...from.counts }, merges: from.merges ?? 0 } };
    return true;
  }
  async unabsorbCounts(ws: string, into: string, from: AbsorbedProfile): Promise<void> {
    await tick();
    const doc = this.docs.get(`${ws}/${into}`);
    const slot = doc?.absorbedFrom?.[from.profileId];
    if (!doc?.absorbed.includes(from.profileId) || slot?.version !== (from.countsVersion ?? 0)) return;
    doc.absorbed = doc.absorbed.filter((p) => p !== from.profileId);
    const { [from.profileId]: _, ...rest } = doc.absorbedFrom ?? {};
    doc.absorbedFrom = rest;
    this.takeOut(ws, doc, from.counts, Object.keys(from.stamps ?? {}), () => false, mergesAddedBy(slot));
  }
  async reserveCounts(ws: string, profileId: string, ids: Identifier[], at: number, caps: CountCaps): Promise<boolean> {
    await tick();
    const doc = this.docs.get(`${ws}/${profileId}`);
    if (!doc) return true;
    const fresh = ids.filter((id) => !doc.counted.includes(identifierDigest(id)));
    // The caps were set for all of `ids`; those counted before are in the counts already.
    const already = countByType(ids.filter((id) => !fresh.includes(id)));
    const relaxed = Object.fromEntries(Object.entries(caps).map(([t, cap]) => [t, cap + (already[t] ?? 0)]));
    if (fresh.length > 0 && (doc.mergedInto !== null || !withinCaps(doc.counts, relaxed))) return false;
    for (const id of fresh) {
      const digest = identifierDigest(id);
      doc.counted.push(digest);
      doc.counts[id.type] = (doc.counts[id.type] ?? 0) + 1;
      bump(doc, { [id.type]: 1 });
      doc.stamps = { ...doc.stamps, [digest]: { type: id.type, at } };
    }
    return true;
  }
  async releaseCounts(ws: string, profileId: string, ids: Identifier[], owners: (string | undefined)[] = []): Promise<void> {
    await tick();
    const doc = this.docs.get(`${ws}/${profileId}`);
    ids.forEach((id, i) => {
      const digest = identifierDigest(id);
      if (!doc?.counted.includes(digest)) return;
      doc.counted = doc.counted.filter((d) => d !== digest);
      const owner = owners[i];
      this.takeOut(ws, doc, { [id.type]: 1 }, [digest], (canonical) => owner !== undefined && this.canonical(ws, owner) === canonical);
    });
  }
  /** As the repository's takeOut: from the document, and from its canonical profile when it was merged since. */
  private takeOut(
    ws: string,
    doc: IdentityProfileDoc,
    counts: Record<string, number>,
    digests: string[],
    keepStamps: (canonical: string) => boolean,
    merges = 0,
  ) {
    const survivor = doc.mergedInto ? this.docs.get(`${ws}/${this.canonical(ws, doc.profileId)}`) : undefined;
    for (const target of survivor ? [doc, survivor] : [doc]) {
      for (const [t, n] of Object.entries(counts)) target.counts[t] = (target.counts[t] ?? 0) - n;
      target.merges = (target.merges ?? 0) - merges;
      bump(target, counts, merges);
      if (target === survivor && keepStamps(survivor.profileId)) continue;
      target.stamps = Object.fromEntries(Object.entries(target.stamps ?? {}).filter(([digest]) => !digests.includes(digest)));
    }
  }
  canonical(ws: string, profileId: string): string {
    let doc = this.docs.get(`${ws}/${profileId}`);
    while (doc?.mergedInto) doc = this.docs.get(`${ws}/${doc.mergedInto}`);
    return doc?.profileId ?? 'missing';
  }
}

/** A resolver over a fresh in-memory graph. */
export function inMemoryResolver() {
  const identities = new FakeIdentities();
  const profiles = new FakeProfiles();
  const resolver = new ResolverService(identities as unknown as IdentitiesRepository, profiles as unknown as IdentityProfilesRepository);
  /** Each identifier's canonical profile: the partition the graph holds. */
  const partition = (ws = 'ws'): Map<string, string> =>
    new Map([...identities.docs.values()].map((d) => [`${d.type}:${d.value}`, profiles.canonical(ws, d.profileId)]));
  return { identities, profiles, resolver, partition };
}

let receivedAt = 1_000;
/** A normalized event of workspace `ws`; timestamp and receivedAt increase unless given. */
export const normalizedEvent = (messageId: string, over: Partial<NormalizedEvent>): NormalizedEvent => ({
  workspaceId: 'ws',
  sourceId: null,
  messageId,
  type: 'identify',
  event: null,
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  previousId: null,
  timestamp: receivedAt,
  receivedAt: receivedAt++,
  traits: '{}',
  properties: '{}',
  context: '{}',
  violations: [],
  ...over,
});
