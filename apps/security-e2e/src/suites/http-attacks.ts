import fc from 'fast-check';
import { waitFor } from '@cdp/testing';
import { deepJson, hostileBody, hostileParam, invalidUtf8, malformedJson, oversized, contentType, pathSegment } from '../support/hostile';
import {
  ADMIN_TOKEN,
  basic,
  bearer,
  createWorkspace,
  DEMO_API_KEY,
  DEMO_WRITE_KEY,
  expectAllAlive,
  isClientErrorWithMessage,
  jsonHeaders,
  request,
  type Answer,
  type Stack,
  withLogs,
  type Workspace,
} from '../support/stack';

interface Target {
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Bodies that are JSON text by contract; the CSV import reads anything as CSV. */
  json: boolean;
}

const TRACKING_CALLS = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'batch', 'import', 't', 'b'];

const describeAnswer = (t: Target, a: Answer) => `${t.method} ${t.label} -> ${a.status} ${a.text.slice(0, 300)}`;

/**
 * Hostile HTTP input against every endpoint of the five services: a client's mistake is a 4xx
 * with a message, never a 5xx or a crash, and leaves nothing behind (no prototype pollution,
 * no operator reaching a query).
 */
export function httpAttacks(stack: () => Stack): void {
  const test = (name: string, run: () => Promise<void>) => it(name, () => withLogs(stack, run));
  describe('hostile HTTP input', () => {
    let ws: Workspace;
    let segmentId: string;
    const profileUser = `victim-${Date.now()}`;

    const s = () => stack().services;

    beforeAll(async () => {
      ws = await createWorkspace(s().collector.url, 'hostile http');
      const seg = await request(`${s().segmenter.url}/v1/segments`, {
        method: 'POST',
        headers: jsonHeaders(bearer(DEMO_API_KEY)),
        body: JSON.stringify({ name: `http-${Date.now()}`, definition: "trait('plan') = 'gold'" }),
      });
      expect(seg.status).toBe(201);
      segmentId = (seg.json as { id: string }).id;
      // A real profile in the workspace: an operator that reached a query would match it.
      const identify = await request(`${s().collector.url}/v1/identify`, {
        method: 'POST',
        headers: jsonHeaders(basic(DEMO_WRITE_KEY)),
        body: JSON.stringify({ userId: profileUser, traits: { email: `${profileUser}@example.com`, plan: 'gold' } }),
      });
      expect(identify.status).toBe(200);
      await waitFor(
        async () =>
          (await request(`${s()['profile-store'].url}/v1/profiles/user_id:${profileUser}`, { headers: bearer(DEMO_API_KEY) })).status ===
          200,
        'the victim profile',
        60_000,
      );
    });

    /** Every endpoint that takes a body. */
    const bodyTargets = (): Target[] => {
      const c = s().collector.url;
      const admin = `${c}/v1/admin/workspaces`;
      return [
        ...TRACKING_CALLS.map((call) => ({
          label: `collector /v1/${call}`,
          method: 'POST',
          url: `${c}/v1/${call}`,
          // The fresh workspace: a hostile body that happens to be a valid call (`{"userId":"u"}`)
          // makes a profile there, not in the demo workspace the path-parameter lookups must miss.
          headers: basic(ws.writeKey),
          json: true,
        })),
        { label: 'admin create workspace', method: 'POST', url: admin, headers: bearer(ADMIN_TOKEN), json: true },
        { label: 'admin create source', method: 'POST', url: `${admin}/${ws.workspaceId}/sources`, headers: bearer(ws.apiKey), json: true },
        { label: 'admin create key', method: 'POST', url: `${admin}/${ws.workspaceId}/keys`, headers: bearer(ws.apiKey), json: true },
        { label: 'csv import', method: 'POST', url: `${c}/v1/import/csv`, headers: basic(ws.writeKey), json: false },
        { label: 'segments create', method: 'POST', url: `${s().segmenter.url}/v1/segments`, headers: bearer(DEMO_API_KEY), json: true },
        {
          label: 'segments update',
          method: 'PUT',
          url: `${s().segmenter.url}/v1/segments/${segmentId}`,
          headers: bearer(DEMO_API_KEY),
          json: true,
        },
        {
          label: 'segments preview',
          method: 'POST',
          url: `${s().segmenter.url}/v1/segments/preview`,
          headers: bearer(DEMO_API_KEY),
          json: true,
        },
        // The fresh workspace's keys for the writes: a hostile body that happens to be valid changes only it.
        ...workspaceWrites(),
      ];
    };

    const workspaceWrites = (): Target[] => {
      const n = s().normalizer.url;
      const ps = s()['profile-store'].url;
      const key = bearer(ws.apiKey);
      const t = (label: string, method: string, url: string): Target => ({ label, method, url, headers: key, json: true });
      return [
        t('normalizer settings', 'PUT', `${n}/v1/settings`),
        t('tracking plan event', 'PUT', `${n}/v1/tracking-plans/Hostile%20Event`),
        t('dlq replay', 'POST', `${n}/v1/dlq/replay`),
        t('identity rules', 'PUT', `${s()['identity-resolver'].url}/v1/identity-rules`),
        t('regulations', 'POST', `${ps}/v1/regulations`),
        t('computed trait', 'PUT', `${ps}/v1/computed-traits/hostile`),
        { label: 'ndjson import', method: 'POST', url: `${s().collector.url}/v1/import/ndjson`, headers: basic(ws.writeKey), json: false },
        {
          label: 'webhook',
          method: 'POST',
          url: `${s().collector.url}/v1/webhooks/${ws.sourceId}`,
          headers: basic(ws.writeKey),
          json: true,
        },
      ];
    };

    /** Every endpoint with a path parameter, the parameter replaced by `p`. None may find anything. */
    const paramTargets = (p: string): Target[] => {
      const c = s().collector.url;
      const ps = `${s()['profile-store'].url}/v1/profiles/${p}`;
      const seg = `${s().segmenter.url}/v1/segments/${p}`;
      const demo = bearer(DEMO_API_KEY);
      const t = (label: string, method: string, url: string, headers: Record<string, string>): Target => ({
        label,
        method,
        url,
        headers,
        json: true,
      });
      return [
        t('profile', 'GET', ps, demo),
        t('profile traits', 'GET', `${ps}/traits`, demo),
        t('profile events', 'GET', `${ps}/events`, demo),
        t('profile identities', 'GET', `${ps}/identities`, demo),
        t('profile segments', 'GET', `${ps}/segments`, demo),
        t('profile erase', 'DELETE', ps, demo),
        t('identity lookup', 'GET', `${s()['identity-resolver'].url}/v1/identities/${p}`, demo),
        t('segment get', 'GET', seg, demo),
        t('segment members', 'GET', `${seg}/members`, demo),
        t('segment delete', 'DELETE', seg, demo),
        t('admin sources of', 'GET', `${c}/v1/admin/workspaces/${p}/sources`, bearer(ADMIN_TOKEN)),
        t('admin keys of', 'GET', `${c}/v1/admin/workspaces/${p}/keys`, bearer(ADMIN_TOKEN)),
        t('admin revoke key', 'DELETE', `${c}/v1/admin/workspaces/${ws.workspaceId}/keys/${p}`, bearer(ws.apiKey)),
        t('admin rotate', 'POST', `${c}/v1/admin/workspaces/${ws.workspaceId}/sources/${p}/rotate-key`, bearer(ws.apiKey)),
        t('regulation status', 'GET', `${s()['profile-store'].url}/v1/regulations/${p}`, demo),
        t('computed trait delete', 'DELETE', `${s()['profile-store'].url}/v1/computed-traits/${p}`, bearer(ws.apiKey)),
        t('tracking plan get', 'GET', `${s().normalizer.url}/v1/tracking-plans/${p}`, demo),
        t('tracking plan delete', 'DELETE', `${s().normalizer.url}/v1/tracking-plans/${p}`, bearer(ws.apiKey)),
        t('identity delete', 'DELETE', `${s()['identity-resolver'].url}/v1/identities/${p}`, bearer(ws.apiKey)),
        t('pixel', 'GET', `${c}/v1/pixel/${p}`, {}),
      ];
    };

    const send = (t: Target, body: string | Buffer | undefined, type?: string) =>
      request(t.url, {
        method: t.method,
        headers: { ...t.headers, ...(type === undefined ? {} : { 'content-type': type }) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
      });

    test('answers malformed, deeply nested, invalid UTF-8 and oversized bodies with a 4xx and a message on every endpoint', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(malformedJson, deepJson, invalidUtf8, oversized), contentType, async (body, type) => {
          for (const t of bodyTargets()) {
            const a = await send(t, body, type);
            if (t.json) {
              if (!isClientErrorWithMessage(a)) throw new Error(describeAnswer(t, a));
            } else if (a.status >= 500) throw new Error(describeAnswer(t, a));
          }
        }),
        // One UTF-16 byte decodes to nothing, which the JSON parser read as `{}` (a 200 with all defaults).
        { numRuns: 8, examples: [['{', 'application/json; charset=utf-16']] },
      );
      await expectAllAlive(stack());
      await expectUnaffected();
    });

    test('never answers hostile bodies (operator, dotted and prototype keys, bytes) with a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(hostileBody, contentType, async (body, type) => {
          for (const t of bodyTargets()) {
            const a = await send(t, body, type);
            if (a.status >= 500 || (a.status >= 400 && !isClientErrorWithMessage(a))) throw new Error(describeAnswer(t, a));
          }
        }),
        { numRuns: 15 },
      );
      await expectAllAlive(stack());
      await expectUnaffected();
    });

    test('refuses hostile path parameters with 400 or 404 and never finds or erases anything with them', async () => {
      await fc.assert(
        fc.asyncProperty(hostileParam, async (param) => {
          for (const t of paramTargets(pathSegment(param))) {
            const a = await send(t, undefined);
            if (![400, 404].includes(a.status) || !isClientErrorWithMessage(a))
              throw new Error(`param ${JSON.stringify(param)}: ${describeAnswer(t, a)}`);
          }
        }),
        { numRuns: 20, examples: [['user_id:u']] },
      );
      // The victim is still there: no hostile id reached the erasure's query.
      const victim = await request(`${s()['profile-store'].url}/v1/profiles/user_id:${profileUser}`, { headers: bearer(DEMO_API_KEY) });
      expect(victim.status).toBe(200);
      await expectAllAlive(stack());
    });

    test('refuses hostile query parameters with a 4xx, and operator-shaped ones never widen a read', async () => {
      const ps = `${s()['profile-store'].url}/v1/profiles/user_id:${profileUser}`;
      const members = `${s().segmenter.url}/v1/segments/${segmentId}/members`;
      await fc.assert(
        fc.asyncProperty(
          hostileParam,
          fc.constantFrom('limit', 'cursor', 'verbose', 'after', 'limit[$gt]', 'after[$gt]', 'cursor.$ne'),
          async (value, name) => {
            const q = `${encodeURIComponent(name)}=${pathSegment(value)}`;
            for (const url of [`${ps}/events?${q}`, `${ps}/traits?${q}`, `${members}?${q}`]) {
              const a = await request(url, { headers: bearer(DEMO_API_KEY) });
              if (a.status >= 500 || (a.status >= 400 && !isClientErrorWithMessage(a)))
                throw new Error(`${url} -> ${a.status} ${a.text.slice(0, 300)}`);
              // `after` pages members by profile id: a string compare, never an operator that lists everything again.
              if (a.status === 200 && url.startsWith(members) && name !== 'after') {
                const items = (a.json as { items: unknown[] }).items;
                if (!Array.isArray(items)) throw new Error(`${url}: no items`);
              }
            }
          },
        ),
        { numRuns: 25 },
      );
      // Operator-shaped query keys are refused outright, not ignored.
      for (const q of ['limit[$gt]=0', 'after[$gt]=', 'cursor[$ne]=x']) {
        const a = await request(`${q.startsWith('cursor') ? `${ps}/events` : members}?${q}`, { headers: bearer(DEMO_API_KEY) });
        expect({ q, status: a.status }).toEqual({ q, status: 400 });
      }
      await expectAllAlive(stack());
    });

    test('takes operator, dotted and prototype keys in traits and properties as plain data: stored under safe keys, nothing polluted', async () => {
      const userId = `poll-${Date.now()}`;
      const probe = `pollutedTrait${Date.now()}`;
      // Nested copies are stored as data (under safe keys), so they carry no real key; the top-level one does.
      const pollution = `{"${probe}":"yes","writeKey":"not-a-key","event":"Polluted","scopes":["admin"],"kind":"api","workspaceId":"demo","statusCode":200}`;
      const top = `{"${probe}":"yes","writeKey":"${DEMO_WRITE_KEY}","event":"Polluted","userId":"polluted","type":"track"}`;
      const traits = `{"plan":"gold","$where":"sleep(5000)","a.b":1,"$gt":"","__proto__":${pollution},"constructor":{"prototype":${pollution}},"nested":{"$ne":null,"x.y":{"__proto__":${pollution}}}}`;
      const bodies = [
        `{"userId":"${userId}","traits":${traits},"context":{"__proto__":${pollution},"$set":{"traits.plan":"x"}}}`,
        `{"userId":"${userId}","event":"Order Completed","properties":${traits},"__proto__":${top}}`,
        `{"batch":[{"type":"identify","userId":"${userId}","traits":${traits},"__proto__":${top}}],"context":{"constructor":{"prototype":${pollution}}},"__proto__":${top}}`,
        `{"userId":"${userId}","traits":{"sentinel":"yes"}}`,
      ];
      const paths = ['identify', 'track', 'batch', 'identify'];
      for (const [i, body] of bodies.entries()) {
        const a = await request(`${s().collector.url}/v1/${paths[i]}`, {
          method: 'POST',
          headers: jsonHeaders(basic(DEMO_WRITE_KEY)),
          body,
        });
        expect({ i, status: a.status, text: a.text }).toEqual({ i, status: 200, text: '{"success":true}' });
      }
      // The same key (userId) keeps the four in order: the sentinel arrives after the hostile ones.
      const profile = await waitFor(
        async () => {
          const a = await request(`${s()['profile-store'].url}/v1/profiles/user_id:${userId}`, { headers: bearer(DEMO_API_KEY) });
          const traits = (a.json as { traits?: Record<string, unknown> } | undefined)?.traits;
          return a.status === 200 && traits?.['sentinel'] === 'yes' ? (a.json as { traits: Record<string, unknown> }) : undefined;
        },
        'the profile with the sentinel trait',
        60_000,
      );
      expect(unsafeKeys(profile.traits)).toEqual([]);
      expect(profile.traits).toMatchObject({ plan: 'gold', _where: 'sleep(5000)', a_b: 1 });
      // No process has a polluted Object.prototype: a segment on the probe trait matches nobody.
      const preview = await waitFor(
        async () => {
          const a = await request(`${s().segmenter.url}/v1/segments/preview`, {
            method: 'POST',
            headers: jsonHeaders(bearer(DEMO_API_KEY)),
            body: JSON.stringify({ definition: `trait('${probe}') = 'yes' or trait('sentinel') = 'yes'` }),
          });
          const body = a.json as { count: number; sample: string[] };
          return a.status === 200 && body.count >= 1 ? body : undefined;
        },
        'the segmenter to see the sentinel',
        60_000,
      );
      expect(preview.count).toBe(1);
      const probeOnly = await request(`${s().segmenter.url}/v1/segments/preview`, {
        method: 'POST',
        headers: jsonHeaders(bearer(DEMO_API_KEY)),
        body: JSON.stringify({ definition: `trait('${probe}') = 'yes'` }),
      });
      expect((probeOnly.json as { count: number }).count).toBe(0);
      await expectAllAlive(stack());
      await expectUnaffected();
    });

    /** Behaviour that a polluted Object.prototype (writeKey, event, scopes, kind, ...) would change. */
    async function expectUnaffected(): Promise<void> {
      const c = s().collector.url;
      // The accepted track below makes a demo profile; the hostile path parameters must not name
      // it (they are meant to find nothing, and found "u" when this was the user id).
      const user = 'unaffected-check-of-the-probes';
      const noKey = await request(`${c}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: user, event: 'E' }),
      });
      expect(noKey.status).toBe(401);
      const noEvent = await request(`${c}/v1/track`, {
        method: 'POST',
        headers: jsonHeaders(basic(DEMO_WRITE_KEY)),
        body: JSON.stringify({ userId: user }),
      });
      expect(noEvent.status).toBe(400);
      const ok = await request(`${c}/v1/track`, {
        method: 'POST',
        headers: jsonHeaders(basic(DEMO_WRITE_KEY)),
        body: JSON.stringify({ userId: user, event: 'E' }),
      });
      expect(ok.status).toBe(200);
      const unknownKey = await request(`${s()['profile-store'].url}/v1/profiles/p_nobody`, { headers: bearer('ak_unknown') });
      expect(unknownKey.status).toBe(401);
      const unknownProfile = await request(`${s()['profile-store'].url}/v1/profiles/p_nobody`, { headers: bearer(DEMO_API_KEY) });
      expect(unknownProfile.status).toBe(404);
      const otherWorkspace = await request(`${c}/v1/admin/workspaces/ws_nobody/keys`, { headers: bearer(ws.apiKey) });
      expect(otherWorkspace.status).toBe(404);
      const readOnly = await request(`${s().segmenter.url}/v1/segments`, {
        method: 'POST',
        headers: jsonHeaders(bearer(DEMO_API_KEY)),
        body: '{}',
      });
      expect(readOnly.status).toBe(400);
    }
  });
}

/** Keys MongoDB would read as operators or paths, or that name a prototype. */
function unsafeKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unsafeKeys(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(k.startsWith('$') || k.includes('.') || ['__proto__', 'constructor', 'prototype'].includes(k) ? [`${path}.${k}`] : []),
    ...unsafeKeys(v, `${path}.${k}`),
  ]);
}
