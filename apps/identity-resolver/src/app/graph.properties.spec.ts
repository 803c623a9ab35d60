import fc from 'fast-check';
import type { NormalizedEvent } from '@cdp/contracts';
import { blockedValueTest, DEFAULT_IDENTITY_RULES, extractIdentifiers, identifierKey, limitOf } from '@cdp/identity-graph';
import { eventIdentifiers } from './alias';
import { ChunkGraph } from './chunk-graph';
import type { ResolverRules } from './identity-rules';
import { mapLimit } from '@cdp/kafka';
import { ResolverService, type Resolution } from './resolver.service';
import type { IdentitiesRepository } from './identities.repository';
import type { IdentityProfilesRepository } from './identity-profiles.repository';
import { inMemoryResolver, normalizedEvent, type FakeProfiles } from './testing/in-memory-graph';
import { maxInWindow } from './windowed-limits';

/**
 * Issue #5's properties over random event streams, on ResolverService itself (with in-memory
 * repositories of the same single-document semantics as the MongoDB ones).
 */
const DAY = 86_400_000;
// Each property resolves thousands of events; a busy machine needs more than the default 5 s.
jest.setTimeout(60_000);

const pick = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { nil: null });
const events = fc
  .array(
    fc.record({
      userId: pick(['u1', 'u2', 'u3', 'null', '0']),
      anonymousId: pick(['a1', 'a2', 'a3', 'a4', 'anonymous']),
      email: pick(['e1@x.io', 'e2@x.io', 'e3@x.io', 'e4@x.io']),
      phone: pick(['+491', '+492', '-1']),
      day: fc.integer({ min: 0, max: 90 }),
    }),
    { minLength: 1, maxLength: 24 },
  )
  .map((list) =>
    list.map(
      (e, i): NormalizedEvent =>
        normalizedEvent(`m${i}`, {
          userId: e.userId,
          anonymousId: e.anonymousId,
          traits: JSON.stringify({ ...(e.email ? { email: e.email } : {}), ...(e.phone ? { phone: e.phone } : {}) }),
          timestamp: e.day * DAY,
        }),
    ),
  );

/** Anonymous visits, some of which give one of a few emails: profiles made apart, then merged. */
const visits = fc
  .array(fc.record({ anonymousId: fc.constantFrom('a1', 'a2', 'a3', 'a4', 'a5', 'a6'), email: pick(['e1@x.io', 'e2@x.io']) }), {
    minLength: 2,
    maxLength: 24,
  })
  .map((list) =>
    list.map(
      (e, i): NormalizedEvent =>
        normalizedEvent(`m${i}`, { anonymousId: e.anonymousId, traits: JSON.stringify(e.email ? { email: e.email } : {}), timestamp: 0 }),
    ),
  );

/** Few people, far-apart days: the same identifiers meet often, at times in and out of a window. */
const sparseEvents = fc
  .array(
    fc.record({
      userId: pick(['u1', 'u2']),
      anonymousId: pick(['a1', 'a2']),
      email: pick(['e1@x.io', 'e2@x.io', 'e3@x.io']),
      day: fc.constantFrom(0, 10, 100),
    }),
    { minLength: 2, maxLength: 10 },
  )
  .map((list) =>
    list.map(
      (e, i): NormalizedEvent =>
        normalizedEvent(`m${i}`, {
          userId: e.userId,
          anonymousId: e.anonymousId,
          traits: JSON.stringify(e.email ? { email: e.email } : {}),
          timestamp: e.day * DAY,
        }),
    ),
  );

const WINDOWED: ResolverRules = {
  ...DEFAULT_IDENTITY_RULES,
  limits: { user_id: 1, email: Number.POSITIVE_INFINITY, anonymous_id: Number.POSITIVE_INFINITY, phone: 1 },
  windows: { email: { max: 2, windowMs: 30 * DAY }, anonymous_id: { max: 2, windowMs: 7 * DAY } },
};
const UNLIMITED: ResolverRules = {
  ...DEFAULT_IDENTITY_RULES,
  limits: {},
  defaultLimit: Number.POSITIVE_INFINITY,
  maxIdentifiers: Number.POSITIVE_INFINITY,
  maxMerges: Number.POSITIVE_INFINITY,
  blocked: { values: [], patterns: [] },
};
/** Per-profile caps bind before the per-type limits do. */
const CAPPED: ResolverRules = {
  ...DEFAULT_IDENTITY_RULES,
  limits: { user_id: 1 },
  defaultLimit: Number.POSITIVE_INFINITY,
  maxIdentifiers: 4,
  maxMerges: 2,
};
/** One email per 30 days: windows bind often, so demotions and late-dated events meet. */
const TIGHT: ResolverRules = {
  ...DEFAULT_IDENTITY_RULES,
  limits: { user_id: 1, email: Number.POSITIVE_INFINITY },
  windows: { email: { max: 1, windowMs: 30 * DAY } },
};
/** Lifetime limits only (windowed limits are checked when an event is decided, not guarded when it is written). */
const LIFETIME: ResolverRules = { ...DEFAULT_IDENTITY_RULES, limits: { user_id: 1, email: 2, phone: 1 } };
const lifetimeRuleSets = fc.constantFrom<[string, ResolverRules]>(['defaults', DEFAULT_IDENTITY_RULES], ['lifetime', LIFETIME]);
const ruleSets = fc.constantFrom<[string, ResolverRules]>(
  ['defaults', DEFAULT_IDENTITY_RULES],
  ['windowed', WINDOWED],
  ['tight', TIGHT],
  ['capped', CAPPED],
);

/** Resolves the events in order; checks each answer and records when each identifier was attached (event time). */
async function run(stream: NormalizedEvent[], rules: ResolverRules) {
  const graph = inMemoryResolver();
  const attachedAt = new Map<string, number>();
  for (const e of stream) {
    const result = await graph.resolver.resolve(e, rules);
    if (!result.ok) continue;
    const partition = graph.partition();
    for (const id of result.identifiers) {
      // The event's kept identifiers all belong to the profile it was attributed to.
      expect(partition.get(identifierKey(id))).toBe(result.profileId);
      if (!attachedAt.has(identifierKey(id))) attachedAt.set(identifierKey(id), e.timestamp);
    }
  }
  return { ...graph, attachedAt };
}

/** Sets of identifier keys, one per profile, in a comparable form. */
const groups = (partition: Map<string, string>): string[][] => {
  const byProfile = new Map<string, string[]>();
  for (const [id, profile] of partition) byProfile.set(profile, [...(byProfile.get(profile) ?? []), id]);
  return [...byProfile.values()].map((g) => g.sort()).sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
};

const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));

/** Per live profile, how many identifiers of each type it holds. */
const countsOf = (partition: Map<string, string>): Map<string, Record<string, number>> => {
  const counts = new Map<string, Record<string, number>>();
  for (const [key, profileId] of partition) {
    const type = key.slice(0, key.indexOf(':'));
    const c = counts.get(profileId) ?? {};
    c[type] = (c[type] ?? 0) + 1;
    counts.set(profileId, c);
  }
  return counts;
};

/** Per live profile: its merges as counted, and the profiles the graph holds merged into it. */
const mergesPerProfile = (profiles: FakeProfiles): [number, number][] => {
  const docs = [...profiles.docs.values()];
  return docs
    .filter((d) => d.mergedInto === null)
    .map((live) => [
      live.merges ?? 0,
      docs.filter((d) => d.mergedInto !== null && profiles.canonical(live.workspaceId, d.profileId) === live.profileId).length,
    ]);
};

/** The oracle: union-find over the identifiers each event carries. */
function connectedComponents(stream: NormalizedEvent[]): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    const p = parent.get(x) ?? x;
    if (p === x) return x;
    const root = find(p);
    parent.set(x, root);
    return root;
  };
  for (const e of stream) {
    const keys = extractIdentifiers(e, UNLIMITED).map(identifierKey);
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (const k of keys.slice(1)) parent.set(find(k), find(keys[0] as string));
  }
  return new Map([...parent.keys()].map((k) => [k, find(k)]));
}

/**
 * Resolves the stream as the consumer does: in chunks (of the given sizes, cycled), one read of
 * each chunk's graph, independent groups at once, each group in order; the results in stream order.
 */
async function resolveInChunks(resolver: ResolverService, stream: NormalizedEvent[], rules: ResolverRules, sizes: number[]) {
  const results: Resolution[] = [];
  for (let start = 0, k = 0; start < stream.length; k++) {
    const chunk = stream.slice(start, start + Math.max(1, sizes[k % sizes.length] ?? 1));
    const graph = new ChunkGraph();
    const groups = await resolver.independentGroups(
      chunk.map((e) => ({ workspaceId: e.workspaceId, identifiers: eventIdentifiers(e, rules) })),
      graph,
    );
    await mapLimit(groups, 16, async (group) => {
      for (const i of group) results[start + i] = await resolver.resolve(chunk[i] as NormalizedEvent, rules, graph);
    });
    start += chunk.length;
  }
  return results;
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 });
/**
 * Found by the maxMerges property: the two instances each merge a profile into the one holding
 * e1@x.io, each having read it with no merges yet. Only the write-time cap keeps it at one.
 */
const MERGED_AT_ONCE: [NormalizedEvent[], number, boolean[]] = [
  [['a2'], ['a1'], ['a1'], ['a3'], ['a3', 'e1@x.io'], ['a2', 'e1@x.io'], ['a1', 'e1@x.io'], ['a1']].map(([anonymousId, email], i) =>
    normalizedEvent(`m${i}`, { anonymousId: anonymousId ?? null, traits: JSON.stringify(email ? { email } : {}), timestamp: 0 }),
  ),
  1,
  [false, true, true, false, false, true, true, false, ...new Array<boolean>(16).fill(false)],
];

/** Which of two instances resolves each event of a stream (of up to 24). */
const sides = fc.array(fc.boolean(), { minLength: 24, maxLength: 24 });

/** Two instances over one graph, each resolving its side of the stream (in chunks of `sizes` if given), at the same time. */
async function runTwoInstances(stream: NormalizedEvent[], split: boolean[], rules: ResolverRules, sizes: number[] | null = null) {
  const graph = inMemoryResolver();
  const instance = () =>
    new ResolverService(graph.identities as unknown as IdentitiesRepository, graph.profiles as unknown as IdentityProfilesRepository);
  const partitions = [stream.filter((_, i) => split[i]), stream.filter((_, i) => !split[i])];
  await Promise.all(
    [instance(), instance()].map(async (resolver, i) => {
      if (sizes) return resolveInChunks(resolver, partitions[i] ?? [], rules, sizes);
      for (const e of partitions[i] ?? []) await resolver.resolve(e, rules);
    }),
  );
  return graph;
}

/**
 * Found by the property below: one instance reserves a2 for a profile that the other then merges
 * (counts and all), and only after that loses the claim of a2. The release must leave the survivor.
 */
const RESERVED_THEN_MERGED: [NormalizedEvent[], boolean[], [string, ResolverRules], number[]] = [
  [
    { phone: '+492' },
    { email: 'e1@x.io' },
    { anonymousId: 'a2', email: 'e1@x.io', phone: '+492' },
    { email: 'e1@x.io', phone: '+491' },
    { anonymousId: 'a2', email: 'e1@x.io' },
  ].map(({ anonymousId, ...traits }, i) =>
    normalizedEvent(`m${i}`, { anonymousId: anonymousId ?? null, traits: JSON.stringify(traits), timestamp: 0 }),
  ),
  [true, false, true, ...new Array<boolean>(21).fill(false)],
  ['defaults', DEFAULT_IDENTITY_RULES],
  [3],
];

describe('identity graph properties (ResolverService over random streams)', () => {
  it('never puts an identifier in two live profiles, nor breaks a limit, a window or a blocked value', () =>
    fc.assert(
      fc.asyncProperty(events, ruleSets, async (stream, [, rules]) => {
        const { identities, profiles, partition, attachedAt } = await run(stream, rules);
        const blocked = blockedValueTest(rules);
        const live = partition();
        // Every identifier leads to exactly one profile, and that profile is live (not absorbed).
        expect(live.size).toBe(identities.docs.size);
        for (const profileId of live.values()) expect(profiles.docs.get(`ws/${profileId}`)?.mergedInto).toBeNull();
        for (const group of groups(live)) {
          const byType = new Map<string, number[]>();
          for (const key of group) {
            const type = key.slice(0, key.indexOf(':'));
            expect(blocked(key.slice(type.length + 1))).toBe(false);
            byType.set(type, [...(byType.get(type) ?? []), attachedAt.get(key) as number]);
          }
          for (const [type, times] of byType) {
            const window = rules.windows?.[type];
            if (window) expect(maxInWindow(times, window.windowMs)).toBeLessThanOrEqual(window.max);
            else expect(times.length).toBeLessThanOrEqual(limitOf(rules, type));
          }
          expect(group.length).toBeLessThanOrEqual(rules.maxIdentifiers);
        }
        for (const [counted, merged] of mergesPerProfile(profiles)) {
          expect(merged).toBeLessThanOrEqual(rules.maxMerges);
          expect(counted).toBe(merged);
        }
      }),
      { numRuns: 100 },
    ));

  it('merges no more profiles into one than maxMerges allows, and counts each merge once (one instance or two at once)', () =>
    fc.assert(
      fc.asyncProperty(visits, fc.integer({ min: 1, max: 3 }), fc.option(sides, { nil: null }), async (stream, maxMerges, split) => {
        const rules = { ...UNLIMITED, maxMerges };
        const { identities, profiles, partition } = split ? await runTwoInstances(stream, split, rules) : await run(stream, rules);
        expect(partition().size).toBe(identities.docs.size);
        for (const [counted, merged] of mergesPerProfile(profiles)) {
          expect(merged).toBeLessThanOrEqual(maxMerges);
          expect(counted).toBe(merged);
        }
      }),
      { numRuns: 100, examples: [MERGED_AT_ONCE] },
    ));

  it('with no limits and no blocked values, makes the connected components of the identifiers', () =>
    fc.assert(
      fc.asyncProperty(events, async (stream) => {
        const { partition } = await run(stream, UNLIMITED);
        expect(groups(partition())).toEqual(groups(connectedComponents(stream)));
      }),
      { numRuns: 100 },
    ));

  it('changes nothing when any prefix of the stream is delivered again', () =>
    fc.assert(
      fc.asyncProperty(events, ruleSets, fc.nat(), async (stream, [, rules], n) => {
        const { resolver, identities, profiles } = await run(stream, rules);
        const snapshot = () => JSON.stringify([[...identities.docs.entries()], [...profiles.docs.entries()]]);
        const before = snapshot();
        const prefix = stream.slice(0, (n % stream.length) + 1);
        for (const e of prefix) await resolver.resolve(e, rules);
        expect(snapshot()).toBe(before);
      }),
      { numRuns: 100 },
    ));

  it('converges when two instances resolve shuffled partitions of the stream at the same time (no limits: the components)', () =>
    fc.assert(
      fc.asyncProperty(events, sides, async (stream, split) => {
        const { partition } = await runTwoInstances(stream, split, UNLIMITED);
        expect(groups(partition())).toEqual(groups(connectedComponents(stream)));
      }),
      { numRuns: 100 },
    ));

  it('changes nothing on a redelivery under a tight window either (few people, far-apart days)', () =>
    fc.assert(
      fc.asyncProperty(sparseEvents, async (stream) => {
        const { resolver, identities, profiles } = await run(stream, TIGHT);
        const snapshot = () => JSON.stringify([[...identities.docs.entries()], [...profiles.docs.entries()]]);
        const before = snapshot();
        // The whole stream again: every prefix's events get their second delivery.
        for (const e of stream) await resolver.resolve(e, TIGHT);
        expect(snapshot()).toBe(before);
      }),
      { numRuns: 300 },
    ));

  it('resolving in chunks (one read per chunk, independent groups at once) decides as one event at a time', () =>
    fc.assert(
      fc.asyncProperty(events, ruleSets, chunkSizes, async (stream, [, rules], sizes) => {
        const one = inMemoryResolver();
        const expected: Resolution[] = [];
        for (const e of stream) expected.push(await one.resolver.resolve(e, rules));
        const chunked = inMemoryResolver();
        const results = await resolveInChunks(chunked.resolver, stream, rules, sizes);
        expect(groups(chunked.partition())).toEqual(groups(one.partition()));
        expect(results.map((r) => (r.ok ? [r.profileId, r.identifiers.map(identifierKey)] : r.reason))).toEqual(
          expected.map((r) => (r.ok ? [r.profileId, r.identifiers.map(identifierKey)] : r.reason)),
        );
      }),
      { numRuns: 100 },
    ));

  it('never breaks a lifetime limit when two instances resolve shuffled partitions at the same time (one by one or in chunks)', () =>
    fc.assert(
      fc.asyncProperty(events, sides, lifetimeRuleSets, fc.option(chunkSizes, { nil: null }), async (stream, split, [, rules], sizes) => {
        const { identities, profiles, partition } = await runTwoInstances(stream, split, rules, sizes);
        const live = partition();
        expect(live.size).toBe(identities.docs.size);
        for (const group of groups(live)) {
          const perType = new Map<string, number>();
          for (const key of group) perType.set(key.slice(0, key.indexOf(':')), (perType.get(key.slice(0, key.indexOf(':'))) ?? 0) + 1);
          for (const [type, n] of perType) expect(n).toBeLessThanOrEqual(limitOf(rules, type));
        }
        // The counts the limits are decided on match what is attached (no reservation left behind).
        for (const [profileId, n] of countsOf(live)) expect(nonZero(profiles.docs.get(`ws/${profileId}`)?.counts ?? {})).toEqual(n);
        for (const [counted, merged] of mergesPerProfile(profiles)) expect(counted).toBe(merged);
      }),
      { numRuns: 300, examples: [RESERVED_THEN_MERGED] },
    ));

  it('converges when two instances resolve shuffled partitions in chunks at the same time (no limits: the components)', () =>
    fc.assert(
      fc.asyncProperty(events, sides, chunkSizes, async (stream, split, sizes) => {
        const { profiles, partition } = await runTwoInstances(stream, split, UNLIMITED, sizes);
        expect(groups(partition())).toEqual(groups(connectedComponents(stream)));
        for (const profileId of partition().values()) expect(profiles.docs.get(`ws/${profileId}`)?.mergedInto).toBeNull();
      }),
      { numRuns: 100 },
    ));
});
