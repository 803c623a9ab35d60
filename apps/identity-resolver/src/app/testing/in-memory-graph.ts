import type { NormalizedEvent } from '@cdp/contracts';
import { identifierDigest, type Identifier } from '@cdp/identity-graph';
import type { IdentitiesRepository, IdentityDoc } from '../identities.repository';
import type { IdentityProfileDoc, IdentityProfilesRepository, MergeInfo, MergeOutcome, StampMap } from '../identity-profiles.repository';
import { ResolverService } from '../resolver.service';

/**
 * In-memory stand-ins for the two graph repositories, with the same single-document semantics
 * as the MongoDB ones (each call yields to the event loop, so concurrent resolutions interleave).
 * For unit and property tests of ResolverService; the integration tests use the real ones.
 */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  async markMerged(ws: string, from: string, into: string, merge: MergeInfo): Promise<MergeOutcome> {
    await tick();
    const doc = this.docs.get(`${ws}/${from}`);
    if (doc && doc.mergedInto === null) {
      Object.assign(doc, { mergedInto: into, merge });
      return { status: 'merged', merge };
    }
    return doc?.mergedInto === into && doc.merge ? { status: 'already', merge: doc.merge } : { status: 'conflict' };
  }
  async absorbCounts(ws: string, into: string, from: string, counts: Record<string, number>, stamps: StampMap = {}): Promise<void> {
    await tick();
    const doc = this.docs.get(`${ws}/${into}`);
    if (!doc || doc.absorbed.includes(from)) return;
    doc.absorbed.push(from);
    for (const [t, n] of Object.entries(counts)) doc.counts[t] = (doc.counts[t] ?? 0) + n;
    doc.stamps = { ...doc.stamps, ...stamps };
  }
  async countIdentifier(ws: string, profileId: string, id: Identifier, at: number): Promise<void> {
    await tick();
    const doc = this.docs.get(`${ws}/${profileId}`);
    const digest = identifierDigest(id);
    if (!doc || doc.counted.includes(digest)) return;
    doc.counted.push(digest);
    doc.counts[id.type] = (doc.counts[id.type] ?? 0) + 1;
    doc.stamps = { ...doc.stamps, [digest]: { type: id.type, at } };
  }
  async countIdentifiers(ws: string, profileId: string, ids: Identifier[], at: number): Promise<void> {
    await tick();
    for (const id of ids) await this.countIdentifier(ws, profileId, id, at);
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
