import { Topics, type ResolvedEvent } from '@cdp/contracts';
import { startServices, testScope, TopicReader, waitFor, withServiceLogs, type RunningService } from '@cdp/testing';

/**
 * Per-workspace identity rules on the real stack: GET/PUT on the built identity-resolver, and a
 * PUT that changes how a new event is resolved (collector -> normalizer -> identity-resolver).
 */
const scope = testScope('idrules');
const SERVICES = ['collector', 'normalizer', 'identity-resolver'] as const;
const PORT_BASE = 14_000 + Math.floor(Math.random() * 900) * 10;
const API_KEY = 'dev-api-key';
const writeAuth = `Basic ${Buffer.from('dev-write-key:').toString('base64')}`;
const apiAuth = { authorization: `Bearer ${API_KEY}` };

let services: Record<(typeof SERVICES)[number], RunningService>;
let resolved: TopicReader<ResolvedEvent>;

beforeAll(async () => {
  services = await startServices(SERVICES, PORT_BASE, scope.env);
  resolved = await new TopicReader<ResolvedEvent>(`${scope.namespace}${Topics.resolvedEvents.name}`).start();
}, 180_000);

afterAll(async () => {
  await resolved?.stop();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

const rulesUrl = () => `${services['identity-resolver'].url}/v1/identity-rules`;
const putRules = (body: unknown, headers: Record<string, string> = apiAuth) =>
  fetch(rulesUrl(), { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Sends an identify through the collector and waits until the resolver has emitted it. */
async function identify(messageId: string, anonymousId: string | { userId: string }, email: string): Promise<ResolvedEvent> {
  const ids = typeof anonymousId === 'string' ? { anonymousId } : anonymousId;
  const res = await fetch(`${services.collector.url}/v1/identify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: writeAuth },
    body: JSON.stringify({ messageId, ...ids, traits: { email } }),
  });
  expect(res.status).toBe(200);
  return (await resolved.waitForRecord((r) => r.messageId === messageId, `resolution of ${messageId}`, 60_000)).value;
}

const profileOf = async (typeValue: string): Promise<string> => {
  const res = await fetch(`${services['identity-resolver'].url}/v1/identities/${encodeURIComponent(typeValue)}`, { headers: apiAuth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { profileId: string }).profileId;
};

const explain = async (typeValue: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${services['identity-resolver'].url}/v1/identities/${encodeURIComponent(typeValue)}`, { headers: apiAuth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/**
 * Two people, each an anonymous id with an email, then an event with the first one's anonymous id
 * and the second one's email: under the defaults (5 emails) the profiles merge; with at most one
 * email per profile the anonymous id is demoted and the event only attaches to the second.
 */
async function linkTwoPeople(tag: string): Promise<{ first: string; second: string; last: ResolvedEvent }> {
  const id = `${scope.id}${tag}`;
  await identify(`m1-${id}`, `a1-${id}`, `one.${id}@example.com`);
  await identify(`m2-${id}`, `a2-${id}`, `two.${id}@example.com`);
  const last = await identify(`m3-${id}`, `a1-${id}`, `two.${id}@example.com`);
  return { first: await profileOf(`anonymous_id:a1-${id}`), second: await profileOf(`email:two.${id}@example.com`), last };
}

it('answers the defaults, refuses bad rules naming the field, and stores good ones per workspace', () =>
  withServiceLogs(
    () => Object.values(services),
    async () => {
      expect((await fetch(rulesUrl())).status).toBe(401);
      const defaults = await fetch(rulesUrl(), { headers: apiAuth });
      expect(defaults.status).toBe(200);
      expect(await defaults.json()).toMatchObject({ limits: { user_id: 1 }, defaultLimit: 5, blocked: { patterns: ['^[0-]*$'] } });

      for (const [body, field] of [
        [{ blocked: { patterns: ['^(a+)+$'] } }, 'blocked.patterns[0]'],
        [{ blocked: { patterns: ['[unclosed'] } }, 'blocked.patterns[0]'],
        [{ limits: { email: { max: 2, window: 'soon' } } }, 'limits.email.window'],
        [{ priority: 'email' }, 'priority'],
        [{ maxMerges: 0 }, 'maxMerges'],
        [{ limits: { emial: 4 } }, 'limits.emial is no identifier type: did you mean email?'],
      ] as const) {
        const res = await putRules(body);
        expect(res.status).toBe(400);
        expect(JSON.stringify(await res.json())).toContain(field);
      }

      const rules = { limits: { phone: { max: 2, window: '30d' } }, blocked: { values: [], patterns: ['^test-'] } };
      const put = await putRules(rules);
      expect(put.status).toBe(200);
      const expected = {
        limits: { user_id: 1, phone: { max: 2, window: '30d' } },
        defaultLimit: 5,
        blocked: { values: [], patterns: ['^test-'] },
      };
      const answer = (await put.json()) as { warnings: string[] };
      expect(answer).toMatchObject(expected);
      // Lists that leave out the default blocked values and pattern: the answer says which.
      expect(answer.warnings).toEqual([
        expect.stringMatching(/^blocked.values replaces the default list: "-1", "null", /),
        'blocked.patterns replaces the default list: "^[0-]*$" is no longer blocked (list it too to keep it)',
      ]);
      // Read back from MongoDB (empty arrays survive the upsert on FerretDB too).
      expect(await (await fetch(rulesUrl(), { headers: apiAuth })).json()).toMatchObject(expected);
      // Back to the defaults for the next test.
      expect((await putRules({})).status).toBe(200);
    },
  ));

it('applies a lowered limit to new events: the second email no longer merges two profiles', () =>
  withServiceLogs(
    () => Object.values(services),
    async () => {
      const merged = await linkTwoPeople('d');
      expect(merged.first).toBe(merged.second);
      expect(merged.last.identifiers.map((i) => i.type).sort()).toEqual(['anonymous_id', 'email']);

      expect((await putRules({ limits: { email: 1 } })).status).toBe(200);
      const limited = await linkTwoPeople('l');
      expect(limited.first).not.toBe(limited.second);
      expect(limited.last.profileId).toBe(limited.second);
      // The anonymous id was demoted: not used for matching, not attached.
      expect(limited.last.identifiers.map((i) => i.type)).toEqual(['email']);
      // The explanation says what kept it off the second person, and when.
      const id = `${scope.id}l`;
      const explained = await explain(`anonymous_id:a1-${id}`);
      expect(explained.status).toBe(200);
      expect(explained.body['refusals']).toEqual([
        {
          profileId: limited.second,
          limit: 'limits.email: 1',
          firstAt: expect.any(String),
          lastAt: expect.any(String),
          messageId: `m3-${id}`,
        },
      ]);
      // A second email for a user is kept off them (user_id outranks email), and so belongs to nobody: the 404 says why.
      const user = await identify(`m6-${id}`, { userId: `u-${id}` }, `first.${id}@example.com`);
      await identify(`m7-${id}`, { userId: `u-${id}` }, `second.${id}@example.com`);
      const nobody = await explain(`email:second.${id}@example.com`);
      expect(nobody.status).toBe(404);
      expect(nobody.body['message']).toMatch(
        new RegExp(`^no profile has the email identifier: limits.email: 1 kept it off ${user.profileId} \\(last `),
      );
      expect(nobody.body['refusals']).toEqual([expect.objectContaining({ profileId: user.profileId, messageId: `m7-${id}` })]);

      // And back: the defaults apply again to newer events.
      expect((await putRules({})).status).toBe(200);
      const again = await waitFor(
        async () => {
          const r = await linkTwoPeople(`r${Date.now() % 100000}`);
          return r.first === r.second ? r : undefined;
        },
        'the defaults to apply again',
        30_000,
      );
      expect(again.first).toBe(again.second);
    },
  ));

it('stops merging into a profile at maxMerges, and still resolves its events (Segment: event resolution continues)', () =>
  withServiceLogs(
    () => Object.values(services),
    async () => {
      expect((await putRules({ maxMerges: 1 })).status).toBe(200);
      const once = await linkTwoPeople('m');
      expect(once.first).toBe(once.second);
      // A third person, then an event joining them to the merged profile: a second merge is refused,
      // the weakest identifier (the anonymous id) is demoted and the event goes to the third.
      const id = `${scope.id}m`;
      await identify(`m4-${id}`, `a3-${id}`, `three.${id}@example.com`);
      const last = await identify(`m5-${id}`, `a1-${id}`, `three.${id}@example.com`);
      const third = await profileOf(`email:three.${id}@example.com`);
      expect(third).not.toBe(once.first);
      expect(last.profileId).toBe(third);
      expect(last.identifiers.map((i) => i.type)).toEqual(['email']);
      expect(await profileOf(`anonymous_id:a1-${id}`)).toBe(once.first);
      expect((await explain(`anonymous_id:a1-${id}`)).body['refusals']).toEqual([
        expect.objectContaining({ profileId: third, limit: 'maxMerges: 1', messageId: `m5-${id}` }),
      ]);
      expect((await putRules({})).status).toBe(200);
    },
  ));
