import { MongoClient } from 'mongodb';
import { startService, testScope, waitFor, type RunningService } from '@cdp/testing';

/**
 * Sources and keys over /v1/admin on the built collector: operator token or a workspace's own
 * admin key; another workspace's resources answer exactly like unknown ones; keys never listed.
 */
const scope = testScope('colladmin');
const ADMIN_TOKEN = `admin-token-${scope.id}-0123456789`;
const PORT = 14_000 + Math.floor(Math.random() * 900);
let collector: RunningService;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_ADMIN_TOKEN: ADMIN_TOKEN });
}, 90_000);
afterAll(async () => {
  await collector?.stop();
});

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

async function call<T = Record<string, unknown>>(method: string, path: string, bearer: string | null, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${collector.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const track = (writeKey: string) =>
  fetch(`${collector.url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ userId: 'u-1', event: 'Tested' }),
  }).then((r) => r.status);

interface Workspace {
  workspaceId: string;
  sourceId: string;
  writeKey: string;
  apiKey: string;
}
const createWorkspace = async (name: string): Promise<Workspace> => {
  const res = await call<Workspace>('POST', '/v1/admin/workspaces', ADMIN_TOKEN, { name });
  expect(res.status).toBe(201);
  return res.body;
};

it('rotates a write key with a grace period: both keys work until it ends, then only the new one', async () => {
  const a = await createWorkspace('Grace');
  expect(await track(a.writeKey)).toBe(200); // cached as valid before the rotation
  const rotatePath = `/v1/admin/workspaces/${a.workspaceId}/sources/${a.sourceId}/rotate-key`;
  const started = Date.now();
  const rotated = await call<{ writeKey: string; keyId: string; revokedKeyIds: string[]; oldKeysWorkUntil: string }>(
    'POST',
    rotatePath,
    a.apiKey,
    { graceSeconds: 3 },
  );
  expect(rotated.status).toBe(200);
  expect(Date.parse(rotated.body.oldKeysWorkUntil) - started).toBeGreaterThanOrEqual(2_500);
  expect([await track(a.writeKey), await track(rotated.body.writeKey)]).toEqual([200, 200]);
  const sources = await call<{ sources: { sourceId: string; activeKeyIds: string[] }[] }>(
    'GET',
    `/v1/admin/workspaces/${a.workspaceId}/sources`,
    ADMIN_TOKEN,
  );
  expect(sources.body.sources.find((s) => s.sourceId === a.sourceId)?.activeKeyIds).toHaveLength(2);
  await waitFor(async () => (await track(a.writeKey)) === 401, 'the old key refused once the grace period ends', 15_000, 250);
  expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  expect(await track(rotated.body.writeKey)).toBe(200);

  for (const graceSeconds of [-1, 1.5, 'a day', 8 * 24 * 3600]) {
    const bad = await call<{ message: string[] }>('POST', rotatePath, a.apiKey, { graceSeconds });
    expect([graceSeconds, bad.status, bad.body.message]).toEqual([graceSeconds, 400, [expect.stringContaining('"graceSeconds" must be')]]);
  }
});

it('manages sources and keys with the operator token and with a workspace admin key', async () => {
  const a = await createWorkspace('Acme');
  expect(await track(a.writeKey)).toBe(200);

  const source = await call<{ sourceId: string; writeKey: string; keyId: string; name: string }>(
    'POST',
    `/v1/admin/workspaces/${a.workspaceId}/sources`,
    a.apiKey,
    { name: 'iOS app' },
  );
  expect(source.status).toBe(201);
  expect(source.body).toMatchObject({ name: 'iOS app', keyId: expect.stringMatching(/^[0-9a-f]{12}$/) });
  expect(await track(source.body.writeKey)).toBe(200);
  // Imports and the CLI name sources: a second "iOS app" would make `--source "iOS app"` ambiguous.
  const twin = await call<{ message: string }>('POST', `/v1/admin/workspaces/${a.workspaceId}/sources`, a.apiKey, { name: ' iOS app ' });
  expect({ status: twin.status, message: twin.body.message }).toEqual({
    status: 409,
    message: `source ${source.body.sourceId} is already named "iOS app" in this workspace`,
  });

  const sources = await call<{ sources: { sourceId: string; name: string; activeKeyIds: string[] }[] }>(
    'GET',
    `/v1/admin/workspaces/${a.workspaceId}/sources`,
    ADMIN_TOKEN,
  );
  expect(sources.status).toBe(200);
  expect(sources.body.sources.map((s) => s.name).sort()).toEqual(['default source', 'iOS app']);
  expect(sources.body.sources.find((s) => s.sourceId === source.body.sourceId)?.activeKeyIds).toEqual([source.body.keyId]);

  // Rotation: the new key works at once, the old one is refused at once (same instance).
  const rotated = await call<{ writeKey: string; keyId: string; revokedKeyIds: string[] }>(
    'POST',
    `/v1/admin/workspaces/${a.workspaceId}/sources/${source.body.sourceId}/rotate-key`,
    a.apiKey,
  );
  expect(rotated.status).toBe(200);
  expect(rotated.body.revokedKeyIds).toEqual([source.body.keyId]);
  expect(await track(rotated.body.writeKey)).toBe(200);
  expect(await track(source.body.writeKey)).toBe(401);

  // API keys with scopes; a key without `admin` may not administer.
  const reader = await call<{ apiKey: string; keyId: string; scopes: string[] }>(
    'POST',
    `/v1/admin/workspaces/${a.workspaceId}/keys`,
    a.apiKey,
    {
      name: 'dashboards',
      scopes: ['read:profiles', 'read:segments'],
    },
  );
  expect(reader.status).toBe(201);
  expect(reader.body.scopes).toEqual(['read:profiles', 'read:segments']);
  expect((await call('GET', `/v1/admin/workspaces/${a.workspaceId}/keys`, reader.body.apiKey)).status).toBe(403);
  // Any API key may ask whose it is (the CLI finds its workspace so); a write key is no API key.
  expect(await call('GET', '/v1/admin/whoami', reader.body.apiKey)).toEqual({
    status: 200,
    body: { kind: 'api', workspaceId: a.workspaceId, keyId: reader.body.keyId, scopes: ['read:profiles', 'read:segments'] },
  });
  expect(await call('GET', '/v1/admin/whoami', ADMIN_TOKEN)).toEqual({ status: 200, body: { kind: 'operator' } });
  expect(await call('GET', '/v1/admin/whoami', a.writeKey)).toMatchObject({
    status: 401,
    body: { message: 'this is a write key (wk_...): send an API key (ak_...) here, as Bearer' },
  });
  // And an API key where a write key goes.
  const swapped = await fetch(`${collector.url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${a.apiKey}:`).toString('base64')}` },
    body: JSON.stringify({ userId: 'u-1', event: 'Tested' }),
  });
  expect({ status: swapped.status, message: ((await swapped.json()) as { message: string }).message }).toEqual({
    status: 401,
    message: 'this is an API key (ak_...): send a write key (wk_...) here, as the Basic auth user name or "writeKey"',
  });
  expect((await call('GET', '/v1/admin/whoami', null)).status).toBe(401);

  const keys = await call<{ keys: Record<string, unknown>[] }>('GET', `/v1/admin/workspaces/${a.workspaceId}/keys`, a.apiKey);
  expect(keys.status).toBe(200);
  const listed = JSON.stringify(keys.body);
  for (const secret of [a.writeKey, a.apiKey, source.body.writeKey, rotated.body.writeKey, reader.body.apiKey]) {
    expect(listed).not.toContain(secret);
  }
  expect(keys.body.keys).toContainEqual({
    keyId: reader.body.keyId,
    kind: 'api',
    name: 'dashboards',
    scopes: ['read:profiles', 'read:segments'],
    sourceId: null,
    createdAt: expect.any(String),
    revokedAt: null,
  });
  expect(keys.body.keys.find((k) => k['keyId'] === source.body.keyId)?.['revokedAt']).toEqual(expect.any(String));

  // Revoking: the key is refused afterwards.
  const revoked = await call('DELETE', `/v1/admin/workspaces/${a.workspaceId}/keys/${reader.body.keyId}`, ADMIN_TOKEN);
  expect(revoked.status).toBe(200);
  expect(revoked.body['revokedAt']).toEqual(expect.any(String));
  expect((await call('GET', `/v1/admin/workspaces/${a.workspaceId}/keys`, reader.body.apiKey)).status).toBe(401);

  // At rest there are only hashes.
  const mongo = await MongoClient.connect(scope.mongoUrl);
  try {
    const stored = JSON.stringify(await mongo.db(scope.database).collection('api_keys').find({}).toArray());
    for (const secret of [a.writeKey, a.apiKey, rotated.body.writeKey, reader.body.apiKey]) expect(stored).not.toContain(secret);
  } finally {
    await mongo.close();
  }
});

it("answers another workspace's resources exactly like unknown ones", async () => {
  const a = await createWorkspace('Tenant A');
  const b = await createWorkspace('Tenant B');
  const bKeys = await call<{ keys: { keyId: string }[] }>('GET', `/v1/admin/workspaces/${b.workspaceId}/keys`, ADMIN_TOKEN);
  const bKeyId = bKeys.body.keys[0]?.keyId ?? '';
  expect(bKeyId).toMatch(/^[0-9a-f]{12}$/);

  const unknownWorkspace = await call('GET', '/v1/admin/workspaces/ws_doesnotexist/sources', ADMIN_TOKEN);
  expect(unknownWorkspace).toEqual({
    status: 404,
    body: { statusCode: 404, message: 'workspace not found', error: 'Not Found', code: 'not_found' },
  });
  for (const [method, path] of [
    ['GET', `/v1/admin/workspaces/${b.workspaceId}/sources`],
    ['GET', `/v1/admin/workspaces/${b.workspaceId}/keys`],
    ['POST', `/v1/admin/workspaces/${b.workspaceId}/sources/${b.sourceId}/rotate-key`],
    ['DELETE', `/v1/admin/workspaces/${b.workspaceId}/keys/${bKeyId}`],
    ['GET', '/v1/admin/workspaces/ws_doesnotexist/sources'],
  ] as const) {
    expect(await call(method, path, a.apiKey)).toEqual(unknownWorkspace);
  }
  // B's source and key named under A's own path: the same answer as ids that do not exist.
  const otherSource = await call('POST', `/v1/admin/workspaces/${a.workspaceId}/sources/${b.sourceId}/rotate-key`, a.apiKey);
  const noSource = await call('POST', `/v1/admin/workspaces/${a.workspaceId}/sources/src_nope/rotate-key`, a.apiKey);
  expect(otherSource).toEqual(noSource);
  expect(noSource.status).toBe(404);
  const otherKey = await call('DELETE', `/v1/admin/workspaces/${a.workspaceId}/keys/${bKeyId}`, a.apiKey);
  const noKey = await call('DELETE', `/v1/admin/workspaces/${a.workspaceId}/keys/000000000000`, a.apiKey);
  expect(otherKey).toEqual(noKey);
  expect(noKey.status).toBe(404);
  // And B's key still works: nothing was done to it.
  expect(await track(b.writeKey)).toBe(200);
});

it('refuses bad requests with a 4xx that says what is wrong', async () => {
  const a = await createWorkspace('Validation');
  const keys = `/v1/admin/workspaces/${a.workspaceId}/keys`;
  const bad = async (body: unknown) => {
    const res = await call<{ message: string | string[] }>('POST', keys, a.apiKey, body);
    expect(res.status).toBe(400);
    return ([] as string[]).concat(res.body.message).join('; ');
  };
  expect(await bad({ name: 'k', scopes: ['root'] })).toContain('each of "scopes" must be one of');
  expect(await bad({ name: 'k', scopes: [] })).toContain('"scopes" must name at least one scope');
  expect(await bad({ scopes: ['admin'] })).toContain('"name" must be a string');
  expect(await bad({ name: 'k', scopes: ['admin'], owner: 'x' })).toContain('property owner should not exist');
  expect(await bad('{"name": "k", ')).toContain('not valid JSON');
  expect((await call('POST', keys, null, { name: 'k', scopes: ['admin'] })).status).toBe(401);
  expect((await call('POST', keys, 'ak_not-a-key', { name: 'k', scopes: ['admin'] })).status).toBe(401);
  expect((await call('POST', '/v1/admin/workspaces', a.apiKey, { name: 'x' })).status).toBe(403);
  expect((await call('POST', '/v1/admin/workspaces', 'not-the-admin-token', { name: 'x' })).status).toBe(401);
  expect((await call('POST', '/v1/admin/workspaces', ADMIN_TOKEN, { name: '' })).body['message']).toEqual([
    '"name" is required: a string of 1 to 200 characters',
  ]);
});
