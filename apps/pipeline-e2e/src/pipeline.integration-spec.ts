import { Topics, type SegmentChange } from '@cdp/contracts';
import { startServices, testScope, TopicReader, waitFor, type RunningService, withServiceLogs } from '@cdp/testing';

/**
 * The walking skeleton, end to end on the real stack: the five built services as processes,
 * an identify and a track call in at the collector, the profile out of the Profile API and
 * an `entered` record on cdp.segments.changes.v1.
 */
const scope = testScope('e2e');
const SERVICES = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'] as const;
const PORT_BASE = 13_000 + Math.floor(Math.random() * 900) * 10;
const API_KEY = 'dev-api-key';
const writeAuth = `Basic ${Buffer.from('dev-write-key:').toString('base64')}`;

let services: Record<(typeof SERVICES)[number], RunningService>;
let segmentChanges: TopicReader<SegmentChange>;

beforeAll(async () => {
  services = await startServices(SERVICES, PORT_BASE, scope.env);
  segmentChanges = await new TopicReader<SegmentChange>(`${scope.namespace}${Topics.segmentChanges.name}`).start();
}, 180_000);

afterAll(async () => {
  await segmentChanges?.stop();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

const post = (url: string, body: unknown, authorization: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, ...headers },
    body: JSON.stringify(body),
  });

/** The caller's trace (W3C traceparent), followed from the HTTP call to the segment change. */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const traced = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` };

it('takes an identify and a track from the collector to a profile and a segment entry', () =>
  withServiceLogs(
    () => Object.values(services),
    async () => {
      const segment = await post(
        `${services.segmenter.url}/v1/segments`,
        { name: 'Germany', definition: "trait('country') = 'DE'" },
        `Bearer ${API_KEY}`,
      );
      expect(segment.status).toBe(201);
      const { id: segmentId } = (await segment.json()) as { id: string };

      const userId = `u-${scope.id}`;
      const email = `jane.${scope.id}@example.com`;
      const identify = await post(
        `${services.collector.url}/v1/identify`,
        {
          userId,
          anonymousId: `anon-${scope.id}`,
          traits: { email: `  Jane.${scope.id}@Example.COM `, country: 'DE' },
        },
        writeAuth,
        traced,
      );
      expect(identify.status).toBe(200);
      expect(await identify.json()).toEqual({ success: true });
      const track = await post(
        `${services.collector.url}/v1/track`,
        {
          anonymousId: `anon-${scope.id}`,
          event: 'Order Completed',
          properties: { total: 120 },
        },
        writeAuth,
        traced,
      );
      expect(track.status).toBe(200);

      // The normalizer lower-cased the email, so the profile is found by the clean address.
      const profile = await waitFor(
        async () => {
          const res = await fetch(`${services['profile-store'].url}/v1/profiles/email:${encodeURIComponent(email)}`, {
            headers: { authorization: `Bearer ${API_KEY}` },
          });
          if (res.status !== 200) return undefined;
          const body = (await res.json()) as {
            profileId: string;
            traits: Record<string, unknown>;
            stats?: { eventCount?: number };
          };
          return body.stats?.eventCount === 2 ? body : undefined;
        },
        'the profile with both events',
        60_000,
      );
      expect(profile.traits).toMatchObject({ email, country: 'DE' });

      const change = await segmentChanges.waitForRecord((c) => c.profileId === profile.profileId, 'the segment entry', 60_000);
      expect(change.value).toMatchObject({
        workspaceId: 'demo',
        segmentId,
        change: 'entered',
        membershipVersion: 1,
      });
      expect(change.key).toBe(`demo:${profile.profileId}`);
      // Five stages later the record still belongs to the caller's trace, with a span of its own.
      expect(change.headers['traceparent']).toMatch(new RegExp(`^00-${TRACE_ID}-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$`));
    },
  ));

it('refuses a bad write key and a malformed event with clear 4xx answers', async () => {
  const badKey = await post(
    `${services.collector.url}/v1/track`,
    { userId: 'u', event: 'E' },
    `Basic ${Buffer.from('nope-nope:').toString('base64')}`,
  );
  expect(badKey.status).toBe(401);
  const noEvent = await post(`${services.collector.url}/v1/track`, { userId: 'u' }, writeAuth);
  expect(noEvent.status).toBe(400);
  expect(((await noEvent.json()) as { message: string }).message).toContain('event is required');
});

it('erases a person by email in a workspace that stores emails hashed, naming the hashed value too', () =>
  withServiceLogs(
    () => Object.values(services),
    async () => {
      const bearer = `Bearer ${API_KEY}`;
      const put = await fetch(`${services.normalizer.url}/v1/settings`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: bearer },
        body: JSON.stringify({ pii: [{ path: 'traits.email', action: 'hash' }] }),
      });
      expect(put.status).toBe(200);
      const [userId, email] = [`hashed-${scope.id}`, `hashed.${scope.id}@example.com`];
      expect((await post(`${services.collector.url}/v1/identify`, { userId, traits: { email } }, writeAuth)).status).toBe(200);
      const profileUrl = `${services['profile-store'].url}/v1/profiles/user_id:${userId}`;
      const stored = await waitFor(
        async () => {
          const res = await fetch(profileUrl, { headers: { authorization: bearer } });
          return res.status === 200 ? ((await res.json()) as { traits: { email?: string } }) : undefined;
        },
        'the profile',
        60_000,
      );
      expect(stored.traits.email).toMatch(/^[0-9a-f]{64}$/);

      // What `cdp regulations create` does: ask the normalizer what the policy stores, name both.
      const hashes = await post(
        `${services.normalizer.url}/v1/settings/pii/hashes`,
        { identifiers: [{ type: 'email', value: email }] },
        bearer,
      );
      expect(hashes.status).toBe(200);
      const [hashed] = ((await hashes.json()) as { identifiers: { hashed: string | null }[] }).identifiers;
      expect(hashed?.hashed).toBe(stored.traits.email);
      const identifiers = [
        { type: 'email', value: email },
        { type: 'email', value: hashed?.hashed },
      ];
      const regulation = await post(`${services['profile-store'].url}/v1/regulations`, { type: 'delete', identifiers }, bearer);
      expect(regulation.status).toBe(202);
      expect(await regulation.json()).toMatchObject({ profilesFound: 1 });
      await waitFor(
        async () => (await fetch(profileUrl, { headers: { authorization: bearer } })).status === 404 || undefined,
        'the profile erased',
      );
    },
  ));
