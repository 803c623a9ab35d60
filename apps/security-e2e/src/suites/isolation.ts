import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { waitFor } from '@cdp/testing';
import {
  ADMIN_TOKEN,
  basic,
  bearer,
  createWorkspace,
  DEMO_API_KEY,
  DEMO_WRITE_KEY,
  expectAllAlive,
  jsonHeaders,
  request,
  type Answer,
  type Stack,
  withLogs,
  type Workspace,
} from '../support/stack';

interface Probe {
  label: string;
  method: string;
  url: (id: { ws: string; profile: string; email: string; segment: string; source: string; key: string }) => string;
  body?: string;
}

const NOBODY = {
  ws: 'ws_AAAAAAAAAAAAAAAA',
  profile: 'p_000000000000000000000000',
  email: 'nobody.at.all@example.com',
  segment: 'seg_nobody',
  source: 'src_nobody',
  key: '000000000000',
};

/** Workspaces apart, scopes enforced, keys hashed at rest, personal data and keys out of the logs. */
export function isolationAndAccess(stack: () => Stack): void {
  const test = (name: string, run: () => Promise<void>) => it(name, () => withLogs(stack, run));
  describe('isolation and access', () => {
    let a: Workspace;
    let b: Workspace;
    const keysOfA: Record<string, string> = {};
    const allKeys: string[] = [];
    let bIds: { ws: string; profile: string; email: string; segment: string; source: string; key: string };
    const s = () => stack().services;
    const tag = Date.now().toString(36);
    const bEmail = `b.person.${tag}@example.com`;

    const newKey = async (ws: Workspace, name: string, scopes: string[]) => {
      const res = await request(`${s().collector.url}/v1/admin/workspaces/${ws.workspaceId}/keys`, {
        method: 'POST',
        headers: jsonHeaders(bearer(ws.apiKey)),
        body: JSON.stringify({ name, scopes }),
      });
      expect(res.status).toBe(201);
      const body = res.json as { apiKey: string; keyId: string };
      allKeys.push(body.apiKey);
      return body;
    };

    const profileOf = async (email: string, key: string) => {
      const res = await request(`${s()['profile-store'].url}/v1/profiles/email:${encodeURIComponent(email)}`, { headers: bearer(key) });
      return res.status === 200 ? (res.json as { profileId: string; stats: { eventCount: number } }) : undefined;
    };

    beforeAll(async () => {
      a = await createWorkspace(s().collector.url, 'workspace A');
      b = await createWorkspace(s().collector.url, 'workspace B');
      allKeys.push(a.writeKey, a.apiKey, b.writeKey, b.apiKey);
      keysOfA['write key'] = a.writeKey;
      keysOfA['admin API key'] = a.apiKey;
      keysOfA['read key'] = (await newKey(a, 'reader', ['read:profiles', 'read:segments', 'read:identities'])).apiKey;
      keysOfA['write-scoped key'] = (await newKey(a, 'writer', ['write:profiles', 'write:segments'])).apiKey;
      const bKey = await newKey(b, 'b reader', ['read:profiles']);
      const seg = await request(`${s().segmenter.url}/v1/segments`, {
        method: 'POST',
        headers: jsonHeaders(bearer(b.apiKey)),
        body: JSON.stringify({ name: 'B customers', definition: "trait('plan') = 'pro'" }),
      });
      expect(seg.status).toBe(201);
      const identify = await request(`${s().collector.url}/v1/identify`, {
        method: 'POST',
        headers: jsonHeaders(basic(b.writeKey)),
        body: JSON.stringify({ userId: `ub-${tag}`, traits: { email: bEmail, plan: 'pro' } }),
      });
      expect(identify.status).toBe(200);
      const profile = await waitFor(() => profileOf(bEmail, b.apiKey), "B's profile", 60_000);
      await waitFor(
        async () =>
          (await request(`${s()['identity-resolver'].url}/v1/identities/email:${bEmail}`, { headers: bearer(b.apiKey) })).status === 200,
        "B's identity",
        30_000,
      );
      bIds = {
        ws: b.workspaceId,
        profile: profile.profileId,
        email: bEmail,
        segment: (seg.json as { id: string }).id,
        source: b.sourceId,
        key: bKey.keyId,
      };
    });

    /** Every endpoint that reads or writes one workspace's data, given the ids of that data. */
    const probes = (): Probe[] => {
      const c = s().collector.url;
      const ps = s()['profile-store'].url;
      const sg = s().segmenter.url;
      const segBody = JSON.stringify({ name: 'taken over', definition: "trait('plan') exists" });
      return [
        { label: 'profile by id', method: 'GET', url: (i) => `${ps}/v1/profiles/${i.profile}` },
        { label: 'profile by email', method: 'GET', url: (i) => `${ps}/v1/profiles/email:${i.email}` },
        { label: 'profile traits', method: 'GET', url: (i) => `${ps}/v1/profiles/${i.profile}/traits?verbose=true` },
        { label: 'profile events', method: 'GET', url: (i) => `${ps}/v1/profiles/${i.profile}/events` },
        { label: 'profile identities', method: 'GET', url: (i) => `${ps}/v1/profiles/email:${i.email}/identities` },
        { label: 'profile segments', method: 'GET', url: (i) => `${ps}/v1/profiles/${i.profile}/segments` },
        { label: 'profile erase', method: 'DELETE', url: (i) => `${ps}/v1/profiles/email:${i.email}` },
        { label: 'identity lookup', method: 'GET', url: (i) => `${s()['identity-resolver'].url}/v1/identities/email:${i.email}` },
        { label: 'segment get', method: 'GET', url: (i) => `${sg}/v1/segments/${i.segment}` },
        { label: 'segment members', method: 'GET', url: (i) => `${sg}/v1/segments/${i.segment}/members` },
        { label: 'segment update', method: 'PUT', url: (i) => `${sg}/v1/segments/${i.segment}`, body: segBody },
        { label: 'segment delete', method: 'DELETE', url: (i) => `${sg}/v1/segments/${i.segment}` },
        { label: 'admin list sources', method: 'GET', url: (i) => `${c}/v1/admin/workspaces/${i.ws}/sources` },
        {
          label: 'admin create source',
          method: 'POST',
          url: (i) => `${c}/v1/admin/workspaces/${i.ws}/sources`,
          body: '{"name":"intruder"}',
        },
        { label: 'admin rotate key', method: 'POST', url: (i) => `${c}/v1/admin/workspaces/${i.ws}/sources/${i.source}/rotate-key` },
        { label: 'admin list keys', method: 'GET', url: (i) => `${c}/v1/admin/workspaces/${i.ws}/keys` },
        {
          label: 'admin create key',
          method: 'POST',
          url: (i) => `${c}/v1/admin/workspaces/${i.ws}/keys`,
          body: '{"name":"intruder","scopes":["admin"]}',
        },
        { label: 'admin revoke key', method: 'DELETE', url: (i) => `${c}/v1/admin/workspaces/${i.ws}/keys/${i.key}` },
      ];
    };

    const call = (p: Probe, ids: typeof NOBODY, auth: Record<string, string>): Promise<Answer> =>
      request(p.url(ids), { method: p.method, headers: jsonHeaders(auth), body: p.body });

    /** The answer with the ids in it blanked, so that "B's" and "nobody's" can be compared. */
    const shape = (x: Answer, ids: typeof NOBODY) => {
      let text = x.text;
      for (const v of Object.values(ids)) text = text.split(v).join('<id>');
      return { status: x.status, text };
    };

    test("refuses every key of workspace A on every endpoint of workspace B's data, exactly as for data that does not exist", async () => {
      const auths = Object.entries(keysOfA).flatMap(([name, key]) => [
        { name: `${name} (Bearer)`, auth: bearer(key) },
        { name: `${name} (Basic)`, auth: basic(key) },
      ]);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...auths), fc.constantFrom(...probes()), async ({ name, auth }, probe) => {
          const onB = await call(probe, bIds, auth);
          const onNobody = await call(probe, NOBODY, auth);
          const label = `${probe.label} with A's ${name}`;
          expect({ label, status: [401, 403, 404].includes(onB.status) }).toEqual({ label, status: true });
          expect({ label, ...shape(onB, bIds) }).toEqual({ label, ...shape(onNobody, NOBODY) });
        }),
        // Few enough combinations to try them all; fast-check picks the order and reports the first that leaks.
        { numRuns: 120 },
      );
      // B's data is untouched: nothing above erased, revoked, rotated or renamed it.
      expect((await profileOf(bEmail, b.apiKey))?.profileId).toBe(bIds.profile);
      const seg = await request(`${s().segmenter.url}/v1/segments/${bIds.segment}`, { headers: bearer(b.apiKey) });
      expect((seg.json as { name: string }).name).toBe('B customers');
      const keys = await request(`${s().collector.url}/v1/admin/workspaces/${b.workspaceId}/keys`, { headers: bearer(b.apiKey) });
      expect(
        (keys.json as { keys: { revokedAt: string | null; name: string }[] }).keys.filter(
          (k) => k.revokedAt !== null || k.name === 'intruder',
        ),
      ).toEqual([]);
      const sources = await request(`${s().collector.url}/v1/admin/workspaces/${b.workspaceId}/sources`, { headers: bearer(b.apiKey) });
      expect(JSON.stringify(sources.json)).not.toContain('intruder');
    });

    test("never lets A's write key put an event into B, whatever the body claims", async () => {
      const before = (await profileOf(bEmail, b.apiKey))?.stats.eventCount;
      const body = {
        userId: `ub-${tag}`,
        event: 'Spoofed',
        workspaceId: b.workspaceId,
        sourceId: b.sourceId,
        writeKey: b.writeKey,
        traits: { email: bEmail },
        context: { workspaceId: b.workspaceId, traits: { email: bEmail } },
      };
      const res = await request(`${s().collector.url}/v1/track`, {
        method: 'POST',
        headers: jsonHeaders(basic(a.writeKey)),
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      // The event is A's: it shows up in A under the same user id, and B's profile does not move.
      await waitFor(
        async () =>
          (await request(`${s()['profile-store'].url}/v1/profiles/user_id:ub-${tag}`, { headers: bearer(a.apiKey) })).status === 200,
        "the spoofed event in A's profile",
        60_000,
      );
      expect((await profileOf(bEmail, b.apiKey))?.stats.eventCount).toBe(before);
    });

    test('enforces scopes: a read key cannot write, a write key cannot administer, a write key is no API key', async () => {
      const c = s().collector.url;
      const sg = s().segmenter.url;
      const ps = s()['profile-store'].url;
      const own = { ws: a.workspaceId };
      const reader = bearer(keysOfA['read key'] as string);
      const writer = bearer(keysOfA['write-scoped key'] as string);
      const cases: [string, Promise<Answer>, number][] = [
        [
          'read key creates a segment',
          request(`${sg}/v1/segments`, {
            method: 'POST',
            headers: jsonHeaders(reader),
            body: '{"name":"x","definition":"trait(\'a\') exists"}',
          }),
          403,
        ],
        ['read key erases a profile', request(`${ps}/v1/profiles/user_id:ub-${tag}`, { method: 'DELETE', headers: reader }), 403],
        ['read key lists its own keys', request(`${c}/v1/admin/workspaces/${own.ws}/keys`, { headers: reader }), 403],
        ['write key lists its own keys', request(`${c}/v1/admin/workspaces/${own.ws}/keys`, { headers: writer }), 403],
        [
          'write key creates a key',
          request(`${c}/v1/admin/workspaces/${own.ws}/keys`, {
            method: 'POST',
            headers: jsonHeaders(writer),
            body: '{"name":"x","scopes":["admin"]}',
          }),
          403,
        ],
        ['write key reads a profile', request(`${ps}/v1/profiles/user_id:ub-${tag}`, { headers: writer }), 403],
        ['write key reads segments', request(`${sg}/v1/segments`, { headers: writer }), 403],
        [
          'read key looks up an identity',
          request(`${s()['identity-resolver'].url}/v1/identities/email:nobody@example.com`, { headers: reader }),
          404,
        ],
        [
          'API key as a write key',
          request(`${c}/v1/track`, { method: 'POST', headers: jsonHeaders(basic(a.apiKey)), body: '{"userId":"u","event":"E"}' }),
          401,
        ],
        ['write key as an API key', request(`${sg}/v1/segments`, { headers: bearer(a.writeKey) }), 401],
        [
          'admin API key creates a workspace',
          request(`${c}/v1/admin/workspaces`, { method: 'POST', headers: jsonHeaders(bearer(a.apiKey)), body: '{"name":"x"}' }),
          403,
        ],
        [
          'write-scoped key creates a segment',
          request(`${sg}/v1/segments`, {
            method: 'POST',
            headers: jsonHeaders(writer),
            body: '{"name":"w","definition":"trait(\'a\') exists"}',
          }),
          201,
        ],
      ];
      for (const [label, pending, expected] of cases) {
        const res = await pending;
        expect({ label, status: res.status }).toEqual({ label, status: expected });
      }
      // A revoked key stops working at once on the instance that revoked it.
      const doomed = await newKey(a, 'doomed', ['admin']);
      const revoke = await request(`${c}/v1/admin/workspaces/${a.workspaceId}/keys/${doomed.keyId}`, {
        method: 'DELETE',
        headers: bearer(a.apiKey),
      });
      expect(revoke.status).toBe(200);
      expect((await request(`${c}/v1/admin/workspaces/${a.workspaceId}/keys`, { headers: bearer(doomed.apiKey) })).status).toBe(401);
    });

    test('stores keys only as hashes: no raw key string anywhere in the database', async () => {
      const secrets = [...allKeys, DEMO_WRITE_KEY, DEMO_API_KEY, ADMIN_TOKEN];
      const client = await MongoClient.connect(stack().scope.mongoUrl);
      try {
        const db = client.db(stack().scope.database);
        const hashes = new Set((await db.collection('api_keys').find({}).toArray()).map((d) => String(d._id)));
        for (const key of [...allKeys, DEMO_WRITE_KEY, DEMO_API_KEY])
          expect(hashes.has(createHash('sha256').update(key).digest('hex'))).toBe(true);
        const leaks: string[] = [];
        for (const { name } of await db.listCollections().toArray()) {
          for await (const doc of db.collection(name).find({})) {
            const text = JSON.stringify(doc);
            for (const secret of secrets) if (text.includes(secret)) leaks.push(`${name}: ${secret.slice(0, 6)}…`);
          }
        }
        expect(leaks).toEqual([]);
      } finally {
        await client.close();
      }
    });

    test('keeps emails, phones, IPs and keys out of every service log by default', async () => {
      const email = `leaky.${tag}@example.com`;
      const phone = '+49 151 23456789';
      const e164 = '+4915123456789';
      const ip = '203.0.113.77';
      const forwarded = '198.51.100.23';
      const res = await request(`${s().collector.url}/v1/identify`, {
        method: 'POST',
        headers: { ...jsonHeaders(basic(a.writeKey)), 'x-forwarded-for': forwarded },
        body: JSON.stringify({
          userId: `leak-${tag}`,
          writeKey: a.writeKey,
          traits: { email, phone, first_name: 'Leaky' },
          context: { ip, traits: { email } },
        }),
      });
      expect(res.status).toBe(200);
      const track = await request(`${s().collector.url}/v1/track`, {
        method: 'POST',
        headers: jsonHeaders({}),
        body: JSON.stringify({
          userId: `leak-${tag}`,
          event: 'Order Completed',
          writeKey: a.writeKey,
          properties: { email, phone, total: 10 },
          context: { ip },
        }),
      });
      expect(track.status).toBe(200);
      // Reads with the email in the path, as the API documents them; bad keys too (their text must not be echoed).
      await waitFor(async () => (await profileOf(email, a.apiKey))?.stats.eventCount === 2, 'the leaky profile', 60_000);
      await request(`${s()['identity-resolver'].url}/v1/identities/email:${encodeURIComponent(email)}`, { headers: bearer(a.apiKey) });
      await request(`${s()['identity-resolver'].url}/v1/identities/phone:${encodeURIComponent(e164)}`, { headers: bearer(a.apiKey) });
      await request(`${s()['profile-store'].url}/v1/profiles/email:${email}/traits`, { headers: bearer('ak_wrong_key_for_logs') });
      await request(`${s().segmenter.url}/v1/segments?key=${encodeURIComponent(a.apiKey)}`, { headers: bearer(a.apiKey) });
      // Let pino flush the lines of these requests.
      await new Promise((r) => setTimeout(r, 500));
      const secrets: Record<string, string> = {
        email,
        'email (url-encoded)': encodeURIComponent(email),
        phone,
        'phone (E.164)': e164,
        'context.ip': ip,
        'X-Forwarded-For': forwarded,
        'A write key': a.writeKey,
        'A API key': a.apiKey,
        'B API key': b.apiKey,
        'a wrong key': 'ak_wrong_key_for_logs',
        'admin token': ADMIN_TOKEN,
      };
      const leaks = Object.values(s()).flatMap((svc) =>
        Object.entries(secrets).flatMap(([what, value]) => {
          const line = svc
            .output()
            .split('\n')
            .find((l) => l.includes(value));
          return line ? [`${svc.name} logged the ${what}: ${line.slice(0, 400)}`] : [];
        }),
      );
      expect(leaks).toEqual([]);
      await expectAllAlive(stack());
    });
  });
}
