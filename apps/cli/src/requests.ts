import { CliError, type ApiRequest } from './http';

/** Where the services are and who the caller is; from flags, else the environment, else the brief's local defaults. */
export interface CliConfig {
  collectorUrl: string;
  normalizerUrl: string;
  identityUrl: string;
  profilesUrl: string;
  segmenterUrl: string;
  adminToken?: string;
  apiKey?: string;
  workspace?: string;
}

export interface GlobalFlags {
  collectorUrl?: string;
  normalizerUrl?: string;
  identityUrl?: string;
  profilesUrl?: string;
  segmenterUrl?: string;
  adminToken?: string;
  apiKey?: string;
  workspace?: string;
}

export const ENV = {
  collectorUrl: 'CDP_COLLECTOR_URL',
  normalizerUrl: 'CDP_NORMALIZER_URL',
  identityUrl: 'CDP_IDENTITY_RESOLVER_URL',
  profilesUrl: 'CDP_PROFILE_STORE_URL',
  segmenterUrl: 'CDP_SEGMENTER_URL',
  adminToken: 'CDP_ADMIN_TOKEN',
  apiKey: 'CDP_API_KEY',
  workspace: 'CDP_WORKSPACE_ID',
} as const;

/** The services `npm start` runs: on CDP_PORT_BASE + 1 to + 5 (3001 to 3005). */
const SERVICE_ORDER = ['collectorUrl', 'normalizerUrl', 'identityUrl', 'profilesUrl', 'segmenterUrl'] as const;
const defaultUrl = (key: (typeof SERVICE_ORDER)[number], env: Record<string, string | undefined>): string => {
  const base = Number(env['CDP_PORT_BASE'] || 3000);
  if (!Number.isInteger(base) || base < 1 || base > 65_530) throw new CliError('CDP_PORT_BASE must be a port number from 1 to 65530', 2);
  return `http://localhost:${base + SERVICE_ORDER.indexOf(key) + 1}`;
};

/** The default a `--<service>-url` option's help shows: the URL the CLI will use with this environment. */
export function serviceUrlDefault(key: (typeof SERVICE_ORDER)[number], env: Record<string, string | undefined>): string {
  const n = SERVICE_ORDER.indexOf(key) + 1;
  const set = env[ENV[key]]?.trim();
  if (set) return `${set} from ${ENV[key]}`;
  try {
    return `${defaultUrl(key, env)}: CDP_PORT_BASE + ${n}`;
  } catch {
    return `CDP_PORT_BASE + ${n}`;
  }
}

export function resolveConfig(flags: GlobalFlags, env: Record<string, string | undefined>): CliConfig {
  const pick = (key: keyof typeof ENV): string | undefined => {
    const value = flags[key] ?? env[ENV[key]];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const url = (key: (typeof SERVICE_ORDER)[number]): string => {
    const value = pick(key) ?? defaultUrl(key, env);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new CliError(`${ENV[key]} / --${kebab(key)} is not a URL: ${value}`, 2);
    }
    // `localhost:3005` parses, as a URL of scheme "localhost:".
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new CliError(
        `${ENV[key]} / --${kebab(key)} must be an http:// or https:// URL: ${value} (e.g. http://${value.replace(/^\w+:\/\//, '')})`,
        2,
      );
    return parsed.toString().replace(/\/+$/, '');
  };
  const config: CliConfig = {
    collectorUrl: url('collectorUrl'),
    normalizerUrl: url('normalizerUrl'),
    identityUrl: url('identityUrl'),
    profilesUrl: url('profilesUrl'),
    segmenterUrl: url('segmenterUrl'),
  };
  const adminToken = pick('adminToken');
  const apiKey = pick('apiKey');
  const workspace = pick('workspace');
  if (adminToken) config.adminToken = adminToken;
  if (apiKey) config.apiKey = apiKey;
  if (workspace) config.workspace = workspace;
  return config;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const seg = encodeURIComponent;

function adminToken(config: CliConfig): string {
  if (!config.adminToken) throw new CliError(`no admin token: pass --admin-token or set ${ENV.adminToken}`, 2);
  return config.adminToken;
}

export function apiKey(config: CliConfig): string {
  if (!config.apiKey) throw new CliError(`no API key: pass --api-key or set ${ENV.apiKey}`, 2);
  return config.apiKey;
}

/** Workspace admin routes take the operator token, or an API key with the admin scope of that workspace. */
function workspaceAdmin(config: CliConfig): { workspace: string; authorization: string } {
  if (!config.workspace) throw new CliError(`no workspace: pass --workspace or set ${ENV.workspace}`, 2);
  const token = config.adminToken ?? config.apiKey;
  if (!token) throw new CliError(`no credentials: pass --admin-token (${ENV.adminToken}) or an admin --api-key (${ENV.apiKey})`, 2);
  return { workspace: config.workspace, authorization: `Bearer ${token}` };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every request the CLI can make: pure, so tests check method, path, headers and body without a network. */
export const requests = {
  createWorkspace: (c: CliConfig, name: string): ApiRequest => ({
    method: 'POST',
    service: 'collector',
    url: `${c.collectorUrl}/v1/admin/workspaces`,
    headers: bearer(adminToken(c)),
    body: { name },
  }),

  /** Who the API key is (its workspace), for admin commands given no --workspace. */
  whoami: (c: CliConfig): ApiRequest => ({
    method: 'GET',
    service: 'collector',
    url: `${c.collectorUrl}/v1/admin/whoami`,
    headers: bearer(apiKey(c)),
  }),

  listSources: (c: CliConfig): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method: 'GET',
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/sources`,
      headers: { authorization },
    };
  },

  createSource: (c: CliConfig, name: string): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method: 'POST',
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/sources`,
      headers: { authorization },
      body: { name },
    };
  },

  /** A source's webhook mapping: read, replace (the mapping as the body) or delete. */
  webhookMapping: (c: CliConfig, method: 'GET' | 'PUT' | 'DELETE', sourceId: string, mapping?: unknown): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method,
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/sources/${seg(sourceId)}/webhook-mapping`,
      headers: { authorization },
      ...(mapping === undefined ? {} : { body: mapping }),
    };
  },

  listKeys: (c: CliConfig): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method: 'GET',
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/keys`,
      headers: { authorization },
    };
  },

  rotateWriteKey: (c: CliConfig, sourceId: string, graceSeconds?: number): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method: 'POST',
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/sources/${seg(sourceId)}/rotate-key`,
      headers: { authorization },
      ...(graceSeconds === undefined ? {} : { body: { graceSeconds } }),
    };
  },

  revokeKey: (c: CliConfig, keyId: string): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method: 'DELETE',
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/keys/${seg(keyId)}`,
      headers: { authorization },
    };
  },

  createApiKey: (c: CliConfig, name: string, scopes: string[]): ApiRequest => {
    const { workspace, authorization } = workspaceAdmin(c);
    return {
      method: 'POST',
      service: 'collector',
      url: `${c.collectorUrl}/v1/admin/workspaces/${seg(workspace)}/keys`,
      headers: { authorization },
      body: { name, scopes },
    };
  },

  getIdentityRules: (c: CliConfig): ApiRequest => ({
    method: 'GET',
    service: 'identity-resolver',
    url: `${c.identityUrl}/v1/identity-rules`,
    headers: bearer(apiKey(c)),
  }),

  putIdentityRules: (c: CliConfig, rules: unknown): ApiRequest => ({
    method: 'PUT',
    service: 'identity-resolver',
    url: `${c.identityUrl}/v1/identity-rules`,
    headers: bearer(apiKey(c)),
    body: rules,
  }),

  getIdentity: (c: CliConfig, typeValue: string): ApiRequest => ({
    method: 'GET',
    service: 'identity-resolver',
    url: `${c.identityUrl}/v1/identities/${seg(typeValue)}`,
    headers: bearer(apiKey(c)),
  }),
};

/** `read:profiles,admin` or `read:profiles admin` -> a de-duplicated list; the collector checks the names. */
export function parseScopes(text: string): string[] {
  const scopes = [...new Set(text.split(/[\s,]+/).filter((s) => s !== ''))];
  if (scopes.length === 0) throw new CliError('--scopes needs at least one scope, e.g. --scopes read:profiles,read:segments', 2);
  return scopes;
}
