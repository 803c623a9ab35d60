import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, testScope, type RunningService } from '@cdp/testing';

/** The real `cdp` (bin/cdp.mjs, which builds apps/cli if needed) against the built collector on the real stack. */
const scope = testScope('cli');
const PORT = 15_000 + Math.floor(Math.random() * 900) * 10;
const ADMIN_TOKEN = `operator-token-${scope.id}`;
const root = join(__dirname, '..', '..', '..');

let collector: RunningService;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_ADMIN_TOKEN: ADMIN_TOKEN });
}, 120_000);

afterAll(async () => {
  await collector?.stop();
});

function cdp(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Only what the CLI should read: no ambient CDP_* variables from the caller's shell.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDP_')));
    execFile(
      process.execPath,
      [join(root, 'bin', 'cdp.mjs'), ...args],
      { env: { ...base, ...env }, timeout: 180_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

it('creates a workspace whose write key and API key work, and fails clearly on a wrong token', async () => {
  const created = await cdp(['--json', 'workspaces', 'create', 'CLI test'], {
    CDP_ADMIN_TOKEN: ADMIN_TOKEN,
    CDP_COLLECTOR_URL: collector.url,
  });
  expect({ code: created.code, stderr: created.stderr }).toMatchObject({ code: 0 });
  const ws = JSON.parse(created.stdout) as { workspaceId: string; sourceId: string; writeKey: string; apiKey: string };
  expect(ws.workspaceId).toMatch(/^ws_/);
  expect(ws.writeKey).toMatch(/^wk_/);
  expect(ws.apiKey).toMatch(/^ak_/);

  // The new write key is accepted by the tracking API.
  const track = await fetch(`${collector.url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ userId: 'u1', event: 'CLI Test' }),
  });
  expect(track.status).toBe(200);

  // The new API key administers its workspace through the CLI; the listing shows no key material.
  const sources = await cdp(['sources', 'list'], {
    CDP_API_KEY: ws.apiKey,
    CDP_WORKSPACE_ID: ws.workspaceId,
    CDP_COLLECTOR_URL: collector.url,
  });
  expect(sources.code).toBe(0);
  expect(sources.stdout).toContain(ws.sourceId);
  expect(sources.stdout).not.toContain(ws.writeKey);
  // Without --workspace, the API key's own.
  const keys = await cdp(['--json', 'keys', 'list'], { CDP_API_KEY: ws.apiKey, CDP_COLLECTOR_URL: collector.url });
  expect({ code: keys.code, stderr: keys.stderr }).toEqual({ code: 0, stderr: '' });
  expect((JSON.parse(keys.stdout) as { keys: { name: string }[] }).keys.map((k) => k.name).sort()).toEqual([
    'admin key',
    'default source write key',
  ]);

  const denied = await cdp(['workspaces', 'create', 'nope'], {
    CDP_ADMIN_TOKEN: 'wrong-token-0123456789',
    CDP_COLLECTOR_URL: collector.url,
  });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toContain('POST /v1/admin/workspaces (collector): 401 Unauthorized: admin token is not valid');
  expect(denied.stdout + denied.stderr).not.toContain('wrong-token-0123456789');
});

it('reads a relative file from the directory npm was started in (INIT_CWD), not the repository root', async () => {
  const here = mkdtempSync(join(tmpdir(), 'cdp-cwd-'));
  const elsewhere = mkdtempSync(join(tmpdir(), 'cdp-cwd-'));
  writeFileSync(join(here, 'rules.json'), '{"limits": {"email": 3}}');
  // No identity-resolver on that port: a file that was read ends in a connection failure, not ENOENT.
  const env = { CDP_API_KEY: 'ak', CDP_IDENTITY_URL: 'http://127.0.0.1:1' };
  const found = await cdp(['identity-rules', 'set', 'rules.json'], { ...env, INIT_CWD: here });
  expect(found.stderr).not.toContain('cannot read rules.json');
  const missing = await cdp(['identity-rules', 'set', 'rules.json'], { ...env, INIT_CWD: elsewhere });
  expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read rules.json') });
});
