import { Injectable, Logger } from '@nestjs/common';
import type { NormalizedEvent } from '@cdp/contracts';
import { extractIdentifiers, identifierKey, type Demotion, type Identifier } from '@cdp/identity-graph';
import { ChunkGraph } from './chunk-graph';
import { countByType, countCaps, mergeWithinLimits } from './count-guards';
import { dedupeIdentifiers, previousIdCandidates, previousIdentifiers } from './alias';
import { IdentitiesRepository, type IdentityDoc } from './identities.repository';
import { IdentityProfilesRepository, type IdentityProfileDoc, type MergeInfo, type MergeReason } from './identity-profiles.repository';
import type { ResolverRules } from './identity-rules';
import type { StoredMerge } from './outputs';
import { independentGroups } from '@cdp/kafka';
import { byWorkspace, CoalescedReads } from '@cdp/mongo';
import { ProfileGraph } from './profile-graph';
import { decideWithinWindows, type WindowedProfileState } from './windowed-limits';

/** Another writer changed the graph under us often enough that we give up; the chunk is redelivered. */
const MAX_ATTEMPTS = 5;

export type Resolution =
  | {
      ok: true;
      profileId: string;
      identifiers: Identifier[];
      merges: StoredMerge[];
      action: 'create' | 'attach' | 'merge';
      /** The event's identifiers a limit kept off `profileId` (see IdentityRefusalsRepository). */
      demoted: Demotion[];
    }
  | { ok: false; reason: 'no_identifiers'; message: string };

/** Thrown inside an attempt when a concurrent writer changed what the decision was based on. */
class GraphChanged extends Error {}

/**
 * Resolves one event against the identity graph and stores the effects, without transactions:
 * new identities by upsert with $setOnInsert, merges by compare-and-set of the absorbed
 * profile's pointer, counts guarded by what was already counted. When a concurrent writer got
 * there first, the event is re-read and decided again, so instances converge.
 */
@Injectable()
export class ResolverService {
  private readonly logger = new Logger(ResolverService.name);
  /** Per-event reads of concurrent resolutions, sent together (see CoalescedReads). */
  private readonly identityReads = new CoalescedReads<{ ws: string; id: Identifier }, IdentityDoc>(
    (keys) =>
      byWorkspace(keys, (ws, ks) =>
        this.identities.findMany(
          ws,
          ks.map((k) => k.id),
        ),
      ),
    (k) => `${k.ws}\u0000${identifierKey(k.id)}`,
    (d) => `${d.workspaceId}\u0000${identifierKey(d)}`,
  );
  private readonly profileReads = new CoalescedReads<{ ws: string; profileId: string }, IdentityProfileDoc>(
    (keys) =>
      byWorkspace(keys, (ws, ks) =>
        this.profiles.findMany(
          ws,
          ks.map((k) => k.profileId),
        ),
      ),
    (k) => `${k.ws}\u0000${k.profileId}`,
    (d) => `${d.workspaceId}\u0000${d.profileId}`,
  );

  constructor(
    private readonly identities: IdentitiesRepository,
    private readonly profiles: IdentityProfilesRepository,
  ) {}

  /**
   * Groups items (a workspace and an event's identifiers) so that no two groups share an
   * identifier or a profile those identifiers lead to now: groups can be resolved concurrently,
   * the items of one group in order. Reads each workspace's identities and profiles once, and
   * keeps what it read in `graph` (for the events' first attempts) when one is given.
   */
  async independentGroups(items: { workspaceId: string; identifiers: Identifier[] }[], graph?: ChunkGraph): Promise<number[][]> {
    const canonicalOf = new Map<string, Map<string, string | undefined>>();
    for (const ws of new Set(items.map((i) => i.workspaceId))) {
      const ids = [
        ...new Map(items.filter((i) => i.workspaceId === ws).flatMap((i) => i.identifiers.map((id) => [identifierNode(id), id]))).values(),
      ];
      const known = await this.identities.findMany(ws, ids);
      graph?.putIdentities(ws, ids, known);
      const profiles = await ProfileGraph.load(
        known.map((k) => k.profileId),
        async (profileIds) => {
          const found = await this.profiles.findMany(ws, profileIds);
          graph?.putProfiles(ws, profileIds, found);
          return found;
        },
      );
      canonicalOf.set(ws, new Map(known.map((k) => [identifierNode(k), profiles.canonical(k.profileId)])));
    }
    return independentGroups(
      items.map(({ workspaceId: ws, identifiers }) =>
        identifiers.flatMap((id) => {
          const profileId = canonicalOf.get(ws)?.get(identifierNode(id));
          return [`${ws}\u0000${identifierNode(id)}`, ...(profileId ? [`${ws}\u0000profile\u0000${profileId}`] : [])];
        }),
      ),
    );
  }

  /**
   * `graph`: what the chunk read at its start (see `independentGroups`); the first attempt reads
   * from it, and what the event writes is forgotten there. A retry reads afresh.
   */
  async resolve(event: NormalizedEvent, rules: ResolverRules, graph?: ChunkGraph): Promise<Resolution> {
    const identifiers = extractIdentifiers(event, rules);
    const previous = previousIdCandidates(event, rules);
    if (identifiers.length === 0 && previous.length === 0) {
      return { ok: false, reason: 'no_identifiers', message: 'the event carries no identifier that is not blocked' };
    }
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        return await this.attempt(event, identifiers, previous, rules, attempt === 1 ? graph : undefined, graph);
      } catch (e) {
        if (!(e instanceof GraphChanged)) throw e;
        // Someone else changed the graph: nothing the chunk read is trusted any more.
        graph?.clear();
        this.logger.debug(`${event.workspaceId}/${event.messageId}: graph changed (${e.message}), attempt ${attempt}`);
      }
    }
    throw new Error(`identity resolution of ${event.messageId} did not settle after ${MAX_ATTEMPTS} attempts`);
  }

  private async attempt(
    event: NormalizedEvent,
    extracted: Identifier[],
    previousCandidates: Identifier[],
    rules: ResolverRules,
    cached: ChunkGraph | undefined,
    written: ChunkGraph | undefined,
  ): Promise<Resolution & { ok: true }> {
    const ws = event.workspaceId;
    const lookedUp = await this.findIdentities(ws, dedupeIdentifiers([...extracted, ...previousCandidates]), cached);
    const previous = previousIdentifiers(previousCandidates, new Set(lookedUp.map(identifierKey)));
    const identifiers = dedupeIdentifiers([...extracted, ...previous]);
    const wanted = new Set(identifiers.map(identifierKey));
    const known = lookedUp.filter((i) => wanted.has(identifierKey(i)));
    const graph = await ProfileGraph.load(
      known.map((i) => i.profileId),
      (ids) => this.findProfiles(ws, ids, cached),
    );
    await this.repairMissing(ws, known, graph);

    const matches = known.map((i) => ({ identifier: { type: i.type, value: i.value }, profileId: graph.canonical(i.profileId) as string }));
    const canonical = [...new Set(matches.map((m) => m.profileId))].map((id) => graph.nodes.get(id) as IdentityProfileDoc);
    const decision = decideWithinWindows({
      workspaceId: ws,
      identifiers,
      matches,
      profiles: canonical.map(toState),
      rules,
      windows: rules.windows ?? {},
      at: event.timestamp,
    });
    if (decision.action === 'none') throw new Error('unreachable: identifiers were not empty');
    const previousKeys = new Set(previous.map(identifierKey));

    // Merges this event made on an earlier delivery: emitted again, so a redelivery re-derives them.
    const merges = new Map<string, StoredMerge>();
    for (const i of known) {
      for (const node of graph.chain(i.profileId)) {
        if (node.mergedInto && node.merge?.messageId === event.messageId) {
          merges.set(node.merge.mergeId, { fromProfileId: node.profileId, intoProfileId: node.mergedInto, merge: node.merge });
        }
      }
    }

    // Whatever is written here is read afresh by the chunk's next events. An event that writes
    // nothing (a returning visitor) leaves the read as good as it was: the next events keep using it.
    if (decision.action === 'create' || decision.merges.length > 0 || decision.attach.length > 0)
      written?.forgetProfiles(ws, decision.profileId, ...decision.merges.flatMap((m) => [m.fromProfileId, m.intoProfileId]));
    for (const id of decision.attach) written?.forgetIdentity(ws, id);
    if (decision.action === 'create') await this.profiles.ensure(ws, decision.profileId, new Date(event.receivedAt));
    for (const step of decision.merges) {
      const reason: MergeReason = step.identifiers.some((id) => previousKeys.has(identifierKey(id))) ? 'alias' : 'shared_identifier';
      const info: MergeInfo = {
        mergeId: step.mergeId,
        reason,
        identifiers: step.identifiers,
        messageId: event.messageId,
        mergedAt: new Date(),
        receivedAt: new Date(event.receivedAt),
        timestamp: new Date(event.timestamp),
      };
      const from = graph.nodes.get(step.fromProfileId) as IdentityProfileDoc;
      const outcome = await mergeWithinLimits(this.profiles, ws, from, step.intoProfileId, info, rules);
      if (outcome.status === 'survivor_changed') throw new GraphChanged(`${step.intoProfileId} was merged or counted concurrently`);
      if (outcome.status === 'conflict') throw new GraphChanged(`${step.fromProfileId} was merged elsewhere`);
      if (outcome.merge.messageId === event.messageId) {
        merges.set(step.mergeId, { fromProfileId: step.fromProfileId, intoProfileId: step.intoProfileId, merge: outcome.merge });
      }
    }
    // Counted first, within the limits (a concurrent attach may have decided on the same counts);
    // then all claims in one round trip. A lost claim is counted nowhere: the event is decided again.
    const reserved = await this.profiles.reserveCounts(
      ws,
      decision.profileId,
      decision.attach,
      event.timestamp,
      countCaps(rules, countByType(decision.attach)),
    );
    if (!reserved) throw new GraphChanged(`${decision.profileId} was merged or counted concurrently`);
    const claimedAt = new Date();
    const owners = await this.identities.claimMany(ws, decision.attach, decision.profileId, claimedAt);
    const won = decision.attach.filter((_, i) => owners[i] === decision.profileId);
    const lost = decision.attach.filter((_, i) => owners[i] !== decision.profileId);
    await this.profiles.releaseCounts(
      ws,
      decision.profileId,
      lost,
      owners.filter((owner) => owner !== decision.profileId),
    );
    if (lost[0]) throw new GraphChanged(`a ${lost[0].type} identifier was claimed concurrently`);
    // A won claim is known without a read: attached here for good (only an erasure or a removal
    // changes it, as for any cached entry). Its createdAt is this claim's, or later than the
    // stored one when an earlier delivery claimed it: only a profile repair reads it.
    written?.putIdentities(
      ws,
      won,
      won.map((id) => ({ workspaceId: ws, type: id.type, value: id.value, profileId: decision.profileId, createdAt: claimedAt })),
    );
    return {
      ok: true,
      profileId: decision.profileId,
      identifiers: decision.identifiers,
      merges: [...merges.values()],
      action: decision.action,
      demoted: decision.demoted,
    };
  }

  /** Identities by natural key, from the chunk's read when it has them. */
  private async findIdentities(ws: string, ids: Identifier[], cached: ChunkGraph | undefined): Promise<IdentityDoc[]> {
    const read = (missing: Identifier[]) => this.identityReads.get(missing.map((id) => ({ ws, id })));
    if (!cached) return read(ids);
    const { found, missing } = cached.lookupIdentities(ws, ids);
    if (missing.length === 0) return found;
    const fresh = await read(missing);
    cached.putIdentities(ws, missing, fresh);
    return [...found, ...fresh];
  }

  private async findProfiles(ws: string, profileIds: string[], cached: ChunkGraph | undefined): Promise<IdentityProfileDoc[]> {
    const read = (missing: string[]) => this.profileReads.get(missing.map((profileId) => ({ ws, profileId })));
    if (!cached) return read(profileIds);
    const { found, missing } = cached.lookupProfiles(ws, profileIds);
    if (missing.length === 0) return found;
    const fresh = await read(missing);
    cached.putProfiles(ws, missing, fresh);
    return [...found, ...fresh];
  }

  /**
   * An identity whose profile document is missing (a crash between the two writes of an older
   * version, or a manual deletion) gets its profile back, so the graph stays walkable.
   */
  private async repairMissing(ws: string, known: IdentityDoc[], graph: ProfileGraph<IdentityProfileDoc>): Promise<void> {
    const broken = known.filter((i) => graph.canonical(i.profileId) === undefined);
    if (broken.length === 0) return;
    for (const i of broken) {
      const last = graph.chain(i.profileId).at(-1);
      await this.profiles.ensure(ws, last?.mergedInto ?? i.profileId, i.createdAt);
    }
    throw new GraphChanged('repaired missing profile documents');
  }
}

const identifierNode = (id: Identifier): string => `identifier\u0000${id.type}\u0000${id.value}`;

export const toState = (doc: IdentityProfileDoc): WindowedProfileState => ({
  profileId: doc.profileId,
  createdAt: doc.createdAt.getTime(),
  counts: doc.counts ?? {},
  merges: doc.merges ?? 0,
  stamps: Object.entries(doc.stamps ?? {}).map(([key, { type, at }]) => ({ key, type, at })),
});
