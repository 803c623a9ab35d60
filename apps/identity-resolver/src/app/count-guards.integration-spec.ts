import { MongoClient } from 'mongodb';
import { DEFAULT_IDENTITY_RULES, identifierDigest, type Identifier } from '@cdp/identity-graph';
import type { MongoConnection } from '@cdp/mongo';
import { testScope } from '@cdp/testing';
import { countByType, countCaps, mergeWithinLimits } from './count-guards';
import { IdentityProfilesRepository, type IdentityProfileDoc, type MergeInfo } from './identity-profiles.repository';

/**
 * The limit guards of IdentityProfilesRepository on real FerretDB (no service): the filters that
 * keep two instances deciding on the same stale counts from taking a profile past a limit, and
 * from adding counts to a profile that was merged away or counting them stale.
 */
const scope = testScope('cguards');
const WS = 'ws-guards';
const RULES = { ...DEFAULT_IDENTITY_RULES, limits: { user_id: 1, email: 2 } };
let client: MongoClient;
let profiles: IdentityProfilesRepository;

beforeAll(async () => {
  client = await new MongoClient(scope.mongoUrl).connect();
  profiles = new IdentityProfilesRepository({ db: client.db(scope.database) } as unknown as MongoConnection);
  await profiles.ensureIndexes();
});

afterAll(() => client?.close());

const email = (n: number): Identifier => ({ type: 'email', value: `${n}@example.com` });
const userId = (v: string): Identifier => ({ type: 'user_id', value: v });
const reserve = (profileId: string, ids: Identifier[]) =>
  profiles.reserveCounts(WS, profileId, ids, 1_000, countCaps(RULES, countByType(ids)));
const read = async (profileId: string): Promise<IdentityProfileDoc> => {
  const [doc] = await profiles.findMany(WS, [profileId]);
  if (!doc) throw new Error(`no profile ${profileId}`);
  return doc;
};
const mergeInfo = (mergeId: string): MergeInfo => ({
  mergeId,
  reason: 'shared_identifier',
  identifiers: [],
  messageId: mergeId,
  mergedAt: new Date(),
  receivedAt: null,
});

describe('identity limit guards (real FerretDB)', () => {
  it('counts up to the limit and refuses past it, leaving nothing of a refused call counted', async () => {
    await profiles.ensure(WS, 'p-limit', new Date());
    expect(await reserve('p-limit', [email(1)])).toBe(true);
    // Decided on stale counts (0 emails): two more would make three.
    expect(await reserve('p-limit', [email(2), email(3)])).toBe(false);
    expect((await read('p-limit')).counts).toEqual({ email: 1 });
    expect(await reserve('p-limit', [email(2)])).toBe(true);
    expect(await reserve('p-limit', [userId('u1')])).toBe(true);
    expect(await reserve('p-limit', [userId('u2')])).toBe(false);
    const doc = await read('p-limit');
    expect(doc.counts).toEqual({ email: 2, user_id: 1 });
    expect(doc.counted).toHaveLength(3);
  });

  it('counts a redelivered identifier once, and releases only what it counted', async () => {
    await profiles.ensure(WS, 'p-redeliver', new Date());
    expect(await reserve('p-redeliver', [email(1), userId('u1')])).toBe(true);
    // The same reservation again (a redelivery after a crash): at the limits, yet already counted.
    expect(await reserve('p-redeliver', [email(1), userId('u1')])).toBe(true);
    expect((await read('p-redeliver')).counts).toEqual({ email: 1, user_id: 1 });
    await profiles.releaseCounts(WS, 'p-redeliver', [userId('u1'), userId('never-counted')]);
    await profiles.releaseCounts(WS, 'p-redeliver', [userId('u1')]);
    const doc = await read('p-redeliver');
    expect(doc.counts).toEqual({ email: 1, user_id: 0 });
    expect(doc.counted).toHaveLength(1);
  });

  it('keeps what its own bulk counted when another resolution took one of those out before its read', async () => {
    // The interleaving concurrent-instances found: the reservation's bulk applies but cannot tell
    // (a release beside it matches nothing); another event's resolution, which found u counted and
    // lost its claim, takes u out between this call's per-identifier retries and its read.
    class Interleaved extends IdentityProfilesRepository {
      beforeRead: (() => Promise<void>) | undefined;
      override async findMany(ws: string, ids: string[]): Promise<IdentityProfileDoc[]> {
        const hook = this.beforeRead;
        this.beforeRead = undefined;
        await hook?.();
        return super.findMany(ws, ids);
      }
    }
    const repo = new Interleaved({ db: client.db(scope.database) } as unknown as MongoConnection);
    await repo.ensure(WS, 'p-own', new Date());
    await repo.ensure(WS, 'p-bystander', new Date());
    repo.beforeRead = () => repo.releaseCounts(WS, 'p-own', [userId('u-taken')]);
    const ids = [userId('u-taken'), email(90)];
    const [reserved] = await Promise.all([
      repo.reserveCounts(WS, 'p-own', ids, 1_000, countCaps(RULES, countByType(ids))),
      repo.releaseCounts(WS, 'p-bystander', [email(91)]),
    ]);
    expect(repo.beforeRead).toBeUndefined();
    // Reserved: its claims settle the rest (a refusal would leave email 90 counted for nobody).
    expect(reserved).toBe(true);
    expect((await read('p-own')).counted).toEqual([identifierDigest(email(90))]);
    await repo.releaseCounts(WS, 'p-own', [email(90)]);
    expect((await read('p-own')).counts).toEqual({ email: 0, user_id: 0 });
  });

  it('does not count on a profile that was merged away', async () => {
    await profiles.ensure(WS, 'p-gone', new Date());
    await profiles.ensure(WS, 'p-survivor', new Date());
    const gone = await read('p-gone');
    expect((await mergeWithinLimits(profiles, WS, gone, 'p-survivor', mergeInfo('m-gone'), RULES)).status).toBe('merged');
    expect(await reserve('p-gone', [email(7)])).toBe(false);
    expect((await read('p-gone')).counts).toEqual({});
  });

  it('merges only with the absorbed counts it read, into a live survivor within its limits', async () => {
    for (const p of ['p-into', 'p-from', 'p-other', 'p-third']) await profiles.ensure(WS, p, new Date());
    expect(await reserve('p-into', [email(1)])).toBe(true);
    expect(await reserve('p-from', [email(2)])).toBe(true);
    const staleFrom = await read('p-from');
    // The absorbed profile gains an identifier after it was read: the merge must not add stale counts.
    expect(await reserve('p-from', [userId('u-from')])).toBe(true);
    expect((await mergeWithinLimits(profiles, WS, staleFrom, 'p-into', mergeInfo('m-stale'), RULES)).status).toBe('conflict');
    expect((await read('p-into')).counts).toEqual({ email: 1 });
    expect((await read('p-into')).absorbed).toEqual([]);
    // Read afresh, it merges; the survivor holds both profiles' counts.
    expect((await mergeWithinLimits(profiles, WS, await read('p-from'), 'p-into', mergeInfo('m-fresh'), RULES)).status).toBe('merged');
    expect((await read('p-into')).counts).toEqual({ email: 2, user_id: 1 });
    // A third profile with an email would take the survivor past two: refused, nothing written.
    expect(await reserve('p-other', [email(3)])).toBe(true);
    const other = await read('p-other');
    expect((await mergeWithinLimits(profiles, WS, other, 'p-into', mergeInfo('m-over'), RULES)).status).toBe('survivor_changed');
    expect((await read('p-other')).mergedInto ?? null).toBeNull();
    // Nor into a survivor that was itself merged away.
    await profiles.ensure(WS, 'p-final', new Date());
    expect((await mergeWithinLimits(profiles, WS, await read('p-into'), 'p-final', mergeInfo('m-final'), RULES)).status).toBe('merged');
    const third = await read('p-third');
    expect((await mergeWithinLimits(profiles, WS, third, 'p-into', mergeInfo('m-late'), RULES)).status).toBe('survivor_changed');
    expect((await read('p-final')).counts).toEqual({ email: 2, user_id: 1 });
  });

  it('takes a released or unabsorbed count out of the survivor when the profile was merged since', async () => {
    for (const p of ['p-reserver', 'p-winner', 'p-absorber', 'p-late']) await profiles.ensure(WS, p, new Date());
    // p-reserver counts u-raced for an attach, then is merged into p-winner with that count...
    expect(await reserve('p-reserver', [userId('u-raced')])).toBe(true);
    expect(await reserve('p-winner', [email(2)])).toBe(true);
    expect((await mergeWithinLimits(profiles, WS, await read('p-reserver'), 'p-winner', mergeInfo('m-r'), RULES)).status).toBe('merged');
    expect((await read('p-winner')).counts).toEqual({ email: 1, user_id: 1 });
    // ...and only then loses the claim of u-raced (to a third profile): the survivor lets it go too, once.
    await profiles.releaseCounts(WS, 'p-reserver', [userId('u-raced')], ['p-elsewhere']);
    await profiles.releaseCounts(WS, 'p-reserver', [userId('u-raced')], ['p-elsewhere']);
    const winner = await read('p-winner');
    expect(winner.counts).toEqual({ email: 1, user_id: 0 });
    expect(Object.values(winner.stamps ?? {}).map((s) => s.type)).toEqual(expect.not.arrayContaining(['user_id']));

    // A merge whose pointer was lost after its survivor was merged in turn: the counts leave the final survivor.
    expect(await reserve('p-late', [email(3)])).toBe(true);
    const late = await read('p-late');
    expect(await profiles.absorbCounts(WS, 'p-absorber', late, {})).toBe(true);
    expect((await mergeWithinLimits(profiles, WS, await read('p-absorber'), 'p-winner', mergeInfo('m-a'), RULES)).status).toBe('merged');
    expect(await read('p-winner')).toMatchObject({ counts: { email: 2, user_id: 0 }, merges: 3 });
    await profiles.unabsorbCounts(WS, 'p-absorber', late);
    expect(await read('p-winner')).toMatchObject({ counts: { email: 1, user_id: 0 }, merges: 2 });
    expect((await read('p-absorber')).absorbed).toEqual([]);
  });

  it('counts the merges a profile took in, with the ones they had absorbed, and takes a lost one back out', async () => {
    const anon = (n: number): Identifier => ({ type: 'anonymous_id', value: `a-${n}` });
    for (const n of [1, 2, 3, 4, 5]) {
      await profiles.ensure(WS, `p-m${n}`, new Date());
      expect(await reserve(`p-m${n}`, [anon(n)])).toBe(true);
    }
    const merge = async (from: string, into: string) =>
      (await mergeWithinLimits(profiles, WS, await read(from), into, mergeInfo(`m-${from}`), RULES)).status;
    expect(await merge('p-m2', 'p-m3')).toBe('merged');
    expect(await merge('p-m3', 'p-m1')).toBe('merged');
    expect((await read('p-m1')).merges).toBe(2);
    // p-m4 absorbed as read, then it takes in p-m5: the same merge from a newer read adds the difference.
    const staleM4 = await read('p-m4');
    expect(await profiles.absorbCounts(WS, 'p-m1', staleM4, countCaps(RULES, staleM4.counts))).toBe(true);
    expect((await read('p-m1')).merges).toBe(3);
    expect(await merge('p-m5', 'p-m4')).toBe('merged');
    expect(await merge('p-m4', 'p-m1')).toBe('merged');
    expect((await read('p-m1')).merges).toBe(4);
    // A merge whose pointer was lost takes its merges back out with its counts.
    await profiles.ensure(WS, 'p-m6', new Date());
    const m6 = await read('p-m6');
    const staleM1 = await read('p-m1');
    expect(await profiles.absorbCounts(WS, 'p-m1', m6, {})).toBe(true);
    expect((await read('p-m1')).merges).toBe(5);
    // Only its merges changed, and a merge of p-m1 from the read before that is refused.
    expect((await profiles.markMerged(WS, 'p-m1', 'p-m2', mergeInfo('m-stale'), staleM1.countsVersion)).status).toBe('conflict');
    await profiles.unabsorbCounts(WS, 'p-m1', m6);
    const m1 = await read('p-m1');
    expect(m1.merges).toBe(4);
    expect(m1.counts).toEqual({ anonymous_id: 5 });
    // At maxMerges, a merge decided on a stale read is refused when written (and decided again).
    await profiles.ensure(WS, 'p-m7', new Date());
    const mergeM7 = async (maxMerges: number) =>
      (await mergeWithinLimits(profiles, WS, await read('p-m7'), 'p-m1', mergeInfo('m-p-m7'), { ...RULES, maxMerges })).status;
    expect(await mergeM7(4)).toBe('survivor_changed');
    expect((await read('p-m1')).merges).toBe(4);
    expect(await mergeM7(5)).toBe('merged');
    expect((await read('p-m1')).merges).toBe(5);
  });

  it('takes an absorbed profile stored before merges were counted as having added none', async () => {
    for (const p of ['p-legacy', 'p-old1', 'p-old2']) await profiles.ensure(WS, p, new Date());
    for (const [p, n] of [
      ['p-old1', 31],
      ['p-old2', 32],
    ] as const)
      expect(await reserve(p, [email(n)])).toBe(true);
    const [old1, old2] = [await read('p-old1'), await read('p-old2')];
    for (const old of [old1, old2]) expect(await profiles.absorbCounts(WS, 'p-legacy', old, {})).toBe(true);
    // As a version before merges were counted left it: no merges on the survivor nor in its slots.
    await client
      .db(scope.database)
      .collection('identity_profiles')
      .updateOne(
        { workspaceId: WS, profileId: 'p-legacy' },
        { $unset: { merges: '', 'absorbedFrom.p-old1.merges': '', 'absorbedFrom.p-old2.merges': '' } },
      );
    // A lost pointer takes the counts out and no merges...
    await profiles.unabsorbCounts(WS, 'p-legacy', old1);
    expect((await read('p-legacy')).merges ?? 0).toBe(0);
    // ...and a newer read of the other counts its merge from then on.
    expect(await reserve('p-old2', [email(33)])).toBe(true);
    expect(await profiles.absorbCounts(WS, 'p-legacy', await read('p-old2'), {})).toBe(true);
    expect(await read('p-legacy')).toMatchObject({ counts: { email: 2 }, merges: 1 });
  });

  it('keeps the newest read when two instances make the same merge, whichever absorbed first', async () => {
    for (const p of ['p-twice', 'p-keeper']) await profiles.ensure(WS, p, new Date());
    expect(await reserve('p-twice', [email(20)])).toBe(true);
    expect(await reserve('p-twice', [userId('u-twice')])).toBe(true);
    // Instance A reads p-twice with u-twice counted and absorbs that into p-keeper...
    const readByA = await read('p-twice');
    expect(await profiles.absorbCounts(WS, 'p-keeper', readByA, countCaps(RULES, readByA.counts))).toBe(true);
    // ...then u-twice's claim is lost, and instance B makes the same merge from a newer read.
    await profiles.releaseCounts(WS, 'p-twice', [userId('u-twice')], ['p-elsewhere']);
    expect((await mergeWithinLimits(profiles, WS, await read('p-twice'), 'p-keeper', mergeInfo('m-b'), RULES)).status).toBe('merged');
    // A's pointer write comes too late, and a redelivery of A's older read is refused.
    expect((await profiles.markMerged(WS, 'p-twice', 'p-keeper', mergeInfo('m-a'), readByA.countsVersion)).status).toBe('already');
    expect(await profiles.absorbCounts(WS, 'p-keeper', readByA, countCaps(RULES, readByA.counts))).toBe(false);
    expect((await read('p-keeper')).counts).toEqual({ email: 1, user_id: 0 });
  });
});
