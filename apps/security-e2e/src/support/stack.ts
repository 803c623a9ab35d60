import { startServices, testScope, withServiceLogs, type RunningService, type TestScope } from '@cdp/testing';

export const SERVICES = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The operator token of the admin API in these tests (CDP_ADMIN_TOKEN needs 16+ characters). */
export const ADMIN_TOKEN = 'security-e2e-operator-token';
export const DEMO_API_KEY = 'dev-api-key';
export const DEMO_WRITE_KEY = 'dev-write-key';

/** A built service as a process (its whole output kept: the redaction test reads every line). */
export type Service = RunningService<ServiceName>;

const WHOLE_OUTPUT = 20_000_000;

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
  const services = await startServices(SERVICES, portBase, env, { keepOutputChars: WHOLE_OUTPUT });
  return { scope, services, stop: () => Promise.all(Object.values<Service>(services).map((s) => s.stop())).then(() => undefined) };
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
export const withLogs = (stack: () => Stack | undefined, run: () => Promise<void>): Promise<void> =>
  withServiceLogs(() => Object.values<Service>(stack()?.services ?? ({} as Record<ServiceName, Service>)), run);

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
