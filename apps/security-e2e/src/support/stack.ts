import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { testScope, waitFor, type TestScope } from '@cdp/testing';

export const SERVICES = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The operator token of the admin API in these tests (CDP_ADMIN_TOKEN needs 16+ characters). */
export const ADMIN_TOKEN = 'security-e2e-operator-token';
export const DEMO_API_KEY = 'dev-api-key';
export const DEMO_WRITE_KEY = 'dev-write-key';

/**
 * A built service as a process. Unlike @cdp/testing's startService this keeps the whole output
 * (the log-redaction test must see every line, not the last 20 KB) and tells whether the
 * process is still alive (a crash must not hide behind a restarted port).
 */
export interface Service {
  name: ServiceName;
  url: string;
  output: () => string;
  alive: () => boolean;
  stop: () => Promise<void>;
}

const MAX_OUTPUT = 20_000_000;

const workspaceRoot = (): string => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nx.json'))) dir = join(dir, '..');
  return dir;
};

async function launch(name: ServiceName, port: number, env: Record<string, string>): Promise<Service> {
  const main = join(workspaceRoot(), 'dist', 'apps', name, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx nx run-many -t build)`);
  let output = '';
  const child = spawn(process.execPath, [main], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    if (output.length < MAX_OUTPUT) output += chunk.toString('utf8');
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
        return (await fetch(`${url}/health/ready`)).ok;
      },
      `${name} to be ready`,
      90_000,
      200,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${name} output ---\n${output.slice(-5_000)}`);
  }
  return {
    name,
    url,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Stack {
  scope: TestScope;
  services: Record<ServiceName, Service>;
  stop: () => Promise<void>;
}

/**
 * The five services in a private scope, with the admin API on and logs at the default level
 * (info), so that what the redaction test reads is what production writes.
 */
export async function startStack(label: string): Promise<Stack> {
  const scope = testScope(label);
  const portBase = 14_000 + Math.floor(Math.random() * 900) * 10;
  const env = { ...scope.env, LOG_LEVEL: 'info', CDP_ADMIN_TOKEN: ADMIN_TOKEN, SEGMENT_CACHE_TTL_MS: '500' };
  const started = await Promise.allSettled(SERVICES.map((name, i) => launch(name, portBase + i + 1, env)));
  const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((s) => s.stop()));
    throw failed.reason;
  }
  const services = Object.fromEntries(running.map((s) => [s.name, s])) as Record<ServiceName, Service>;
  return { scope, services, stop: () => Promise.all(running.map((s) => s.stop())).then(() => undefined) };
}

/** Every service is still the process we started, and says it is live. */
export async function expectAllAlive(stack: Stack): Promise<void> {
  for (const s of Object.values(stack.services)) {
    if (!s.alive()) throw new Error(`${s.name} died\n${s.output().slice(-5_000)}`);
    const live = await fetch(`${s.url}/health/live`);
    if (live.status !== 200) throw new Error(`${s.name} /health/live answered ${live.status}`);
  }
}

/** On failure, the message carries each service's recent warnings and errors. */
export async function withLogs(stack: () => Stack | undefined, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    const logs = Object.values(stack()?.services ?? {})
      .map((s) => {
        const lines = s
          .output()
          .split('\n')
          .filter((l) => l.trim() && !l.includes('"level":30'))
          .slice(-15);
        return `--- ${s.name} ---\n${lines.join('\n')}`;
      })
      .join('\n');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`);
  }
}

export interface Answer {
  status: number;
  text: string;
  json: unknown;
}

export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
export const basic = (writeKey: string) => ({ authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` });
export const jsonHeaders = (auth: Record<string, string>) => ({ 'content-type': 'application/json', ...auth });

/** A client error answered as the platform's JSON error with a message: 4xx, never 5xx. */
export function isClientErrorWithMessage(a: Answer): boolean {
  const body = a.json as { message?: unknown } | undefined;
  const message = body?.message;
  return (
    a.status >= 400 && a.status < 500 && (typeof message === 'string' ? message.length > 0 : Array.isArray(message) && message.length > 0)
  );
}

export interface Workspace {
  workspaceId: string;
  sourceId: string;
  writeKey: string;
  apiKey: string;
}

export async function createWorkspace(collectorUrl: string, name: string): Promise<Workspace> {
  const res = await request(`${collectorUrl}/v1/admin/workspaces`, {
    method: 'POST',
    headers: jsonHeaders(bearer(ADMIN_TOKEN)),
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`creating workspace ${name}: ${res.status} ${res.text}`);
  return res.json as Workspace;
}
