import type { ResolvedEvent } from '@cdp/contracts';
import { startResolverStack, T0, type ResolverStack } from './app/testing/resolver-stack';

/**
 * Fuzzy matching on the real stack (Kafka, registry, FerretDB): identify calls with different
 * user ids and emails but the same person are merged (reason fuzzy_match, explained field by field),
 * a borderline pair waits in the review queue until accepted, and relatives are not merged.
 */
let stack: ResolverStack;

beforeAll(async () => {
  stack = await startResolverStack('idfuzzy');
}, 120_000);

afterAll(() => stack?.stop());

const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);
const api = (path: string, init: RequestInit = {}) => stack.api(path, init);
const identity = async (typeValue: string) => (await api(`/v1/identities/${encodeURIComponent(typeValue)}`)).json() as Promise<Explanation>;

interface Explanation {
  profileId: string;
  merges: {
    reason: string;
    fromProfileId: string;
    intoProfileId: string;
    score: { total: number; fields: { field: string; level: string; weight: number }[] } | null;
  }[];
}
interface Review {
  reviewId: string;
  profileId: string;
  candidateProfileId: string;
  status: string;
  score: { total: number };
}

let seq = 0;
const id = (tag: string) => stack.id(tag);

/** Produces an identify call with these traits on the normalized topic and waits for its resolved event. */
function identify(who: { userId?: string; anonymousId?: string }, traits: Record<string, unknown>): Promise<ResolvedEvent> {
  seq++;
  return stack.resolve({
    userId: who.userId ?? null,
    anonymousId: who.anonymousId ?? null,
    timestamp: T0 + seq,
    traits: JSON.stringify(traits),
  });
}

async function pendingReviews(): Promise<Review[]> {
  const res = await api('/v1/identity-reviews');
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Review[] }).items;
}

it('merges the same person with a typo in the name (same birthday and postal code) as fuzzy_match, explained per field', () =>
  withLogs(async () => {
    const first = await identify(
      { anonymousId: id('jane') },
      {
        email: `${id('jane')}@x.io`,
        firstName: 'Jane',
        lastName: 'Doe',
        birthday: '1985-03-14',
        address: { street: '12 Rue Oberkampf', postalCode: '75011', city: 'Paris' },
      },
    );
    const second = await identify(
      { anonymousId: id('jnae') },
      {
        email: `${id('jnae')}@y.io`,
        firstName: 'Jnae',
        lastName: 'Doe',
        birthday: '1985-03-14',
        address: { postalCode: '75 011' },
      },
    );
    expect(second.profileId).toBe(first.profileId);
    const merge = (await stack.merges.waitForRecord((m) => m.messageId === second.messageId, 'the fuzzy merge')).value;
    expect(merge).toMatchObject({ reason: 'fuzzy_match', intoProfileId: first.profileId, identifiers: [] });
    expect(merge.score).toBeGreaterThanOrEqual(18);

    const explained = await identity(`email:${id('jnae')}@y.io`);
    expect(explained.profileId).toBe(first.profileId);
    expect(explained.merges).toHaveLength(1);
    const [m] = explained.merges;
    expect(m?.reason).toBe('fuzzy_match');
    expect(m?.score?.total).toBe(merge.score);
    expect(m?.score?.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'first', level: 'partial' }),
        expect.objectContaining({ field: 'last', level: 'agree' }),
        expect.objectContaining({ field: 'birthday', level: 'agree' }),
        expect.objectContaining({ field: 'postalCode', level: 'agree' }),
      ]),
    );
    // Limits still apply: the same person under two user ids (limit 1) stays in two profiles.
    const u1 = await identify(
      { userId: id('eva1') },
      { firstName: 'Eva', lastName: 'Lind', birthday: '1969-12-01', address: { postalCode: '11122' } },
    );
    const u2 = await identify(
      { userId: id('eva2') },
      { firstName: 'Eva', lastName: 'Lind', birthday: '1969-12-01', address: { postalCode: '11122' } },
    );
    expect(u2.profileId).not.toBe(u1.profileId);
    // Nor queued for review: accepting would be refused for the same reason.
    const evaPair = [u1.profileId, u2.profileId].sort().join();
    expect((await pendingReviews()).some((r) => [r.profileId, r.candidateProfileId].sort().join() === evaPair)).toBe(false);
    // The contributions add up to the score.
    expect(m?.score?.fields.reduce((s, f) => s + f.weight, 0)).toBeCloseTo(merge.score ?? 0, 1);
  }));

it('queues a borderline pair (same name and postal code, another birthday) for review; accept merges it', () =>
  withLogs(async () => {
    const a = await identify(
      { anonymousId: id('max1') },
      {
        firstName: 'Max',
        lastName: 'Mustermann',
        birthday: '1990-05-06',
        address: { postalCode: '10115' },
      },
    );
    const b = await identify(
      { anonymousId: id('max2') },
      {
        firstName: 'Max',
        lastName: 'Mustermann',
        birthday: '1991-08-09',
        address: { postalCode: '10115' },
      },
    );
    expect(b.profileId).not.toBe(a.profileId);
    const review = (await pendingReviews()).find(
      (r) => [r.profileId, r.candidateProfileId].sort().join() === [a.profileId, b.profileId].sort().join(),
    );
    expect(review).toMatchObject({ status: 'pending' });
    expect(review?.score.total).toBeGreaterThanOrEqual(8);

    const reviewId = encodeURIComponent(review?.reviewId ?? '');
    // Accepting needs the admin scope (a read key may only list), and no key at all is refused.
    expect((await fetch(`${stack.service.url}/v1/identity-reviews/${reviewId}/accept`, { method: 'POST' })).status).toBe(401);
    const accepted = await api(`/v1/identity-reviews/${reviewId}/accept`, { method: 'POST' });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ status: 'accepted', merged: true, survivorProfileId: a.profileId });
    expect((await api(`/v1/identity-reviews/${reviewId}/accept`, { method: 'POST' })).status).toBe(409);

    const explained = await identity(`anonymous_id:${id('max2')}`);
    expect(explained.profileId).toBe(a.profileId);
    expect(explained.merges[0]).toMatchObject({ reason: 'fuzzy_match', fromProfileId: b.profileId, intoProfileId: a.profileId });
    const merge = (await stack.merges.waitForRecord((m) => m.fromProfileId === b.profileId, 'the accepted merge')).value;
    expect(merge).toMatchObject({ reason: 'fuzzy_match', intoProfileId: a.profileId, messageId: null });
    expect((await pendingReviews()).some((r) => r.reviewId === review?.reviewId)).toBe(false);
    // Audited (action and route, not the people).
    expect(stack.service.output()).toContain('identity_reviews.accept');
    // Counted in the metrics: the pair queued, then accepted; fuzzy outcomes and comparisons.
    const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
    const value = (name: string, label = '') =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(name) && l.includes(label))
          ?.split(' ')
          .at(-1) ?? 'NaN',
      );
    expect(value('cdp_identity_reviews_total{', 'decision="queued"')).toBeGreaterThanOrEqual(1);
    expect(value('cdp_identity_reviews_total{', 'decision="accepted"')).toBe(1);
    expect(value('cdp_identity_fuzzy_matches_total{', 'outcome="reviewed"')).toBeGreaterThanOrEqual(1);
    expect(value('cdp_identity_fuzzy_comparisons_total')).toBeGreaterThanOrEqual(1);
    expect(value('cdp_identity_reviews_open')).toBeGreaterThanOrEqual(0);
  }));

it('does not merge relatives sharing a last name and an address; a rejected pair is not queued again', () =>
  withLogs(async () => {
    const address = { street: '7 Calle Mayor', postalCode: '28013', city: 'Madrid' };
    const father = await identify(
      { anonymousId: id('pedro') },
      { firstName: 'Pedro', lastName: 'Garcia', birthday: '1952-07-30', address },
    );
    const daughter = await identify(
      { anonymousId: id('lucia') },
      { firstName: 'Lucia', lastName: 'Garcia', birthday: '1984-11-02', address },
    );
    expect(daughter.profileId).not.toBe(father.profileId);
    expect((await identity(`anonymous_id:${id('lucia')}`)).merges).toEqual([]);

    // Street and postal code agree strongly, but the first names and birthdays differ: at most a review.
    const pair = [father.profileId, daughter.profileId].sort().join();
    const review = (await pendingReviews()).find((r) => [r.profileId, r.candidateProfileId].sort().join() === pair);
    expect(review).toBeDefined();
    const rejected = await api(`/v1/identity-reviews/${encodeURIComponent(review?.reviewId ?? '')}/reject`, { method: 'POST' });
    expect(rejected.status).toBe(200);
    expect(await rejected.json()).toMatchObject({ status: 'rejected' });

    // The daughter's next identify call finds her father again: still not merged, not queued again.
    const again = await identify({ anonymousId: id('lucia') }, { firstName: 'Lucia', lastName: 'Garcia', birthday: '1984-11-02', address });
    expect(again.profileId).toBe(daughter.profileId);
    expect((await pendingReviews()).some((r) => [r.profileId, r.candidateProfileId].sort().join() === pair)).toBe(false);
    const listed = (await (await api('/v1/identity-reviews?status=rejected')).json()) as { items: Review[] };
    expect(listed.items.filter((r) => [r.profileId, r.candidateProfileId].sort().join() === pair)).toHaveLength(1);
    expect((await api('/v1/identity-reviews?status=nope')).status).toBe(400);
    for (const limit of ['0', '5000'])
      expect(await (await api(`/v1/identity-reviews?limit=${limit}`)).json()).toMatchObject({
        statusCode: 400,
        message: 'limit must be an integer from 1 to 200',
      });
  }));

it('reads and validates the fuzzy section of the identity rules', () =>
  withLogs(async () => {
    const put = (body: unknown) =>
      api('/v1/identity-rules', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const defaults = (await (await api('/v1/identity-rules')).json()) as { fuzzy: Record<string, unknown> };
    expect(defaults.fuzzy).toMatchObject({ enabled: true, autoMergeThreshold: 18, reviewThreshold: 8, maxBlockSize: 50 });
    const bad = await put({ fuzzy: { autoMergeThreshold: 5, reviewThreshold: 10 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('fuzzy.reviewThreshold: must not exceed autoMergeThreshold');
    try {
      const ok = await put({ fuzzy: { enabled: false, autoMergeThreshold: 25 } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { fuzzy: unknown }).fuzzy).toMatchObject({ enabled: false, autoMergeThreshold: 25, reviewThreshold: 8 });
      // Off: the same person again under another user id is not merged.
      const a = await identify(
        { anonymousId: id('off1') },
        {
          firstName: 'Olga',
          lastName: 'Novak',
          birthday: '1977-02-03',
          address: { postalCode: '11000' },
        },
      );
      const b = await identify(
        { anonymousId: id('off2') },
        {
          firstName: 'Olga',
          lastName: 'Novak',
          birthday: '1977-02-03',
          address: { postalCode: '11000' },
        },
      );
      expect(b.profileId).not.toBe(a.profileId);
    } finally {
      expect((await put({})).status).toBe(200);
    }
  }));
