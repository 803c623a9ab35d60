import type { ApiRequest } from './http';
import { apiKey, type CliConfig } from './requests';

/** Requests of the `profiles`, `profile-settings` and `identities` commands, with the workspace's API key. Pure. */
const seg = encodeURIComponent;

const to =
  (service: string, base: (c: CliConfig) => string) =>
  (
    c: CliConfig,
    method: ApiRequest['method'],
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
    body?: unknown,
  ): ApiRequest => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const text = qs.toString();
    return {
      method,
      service,
      url: `${base(c)}${path}${text ? `?${text}` : ''}`,
      headers: { authorization: `Bearer ${apiKey(c)}` },
      ...(body === undefined ? {} : { body }),
    };
  };
const profileStore = to('profile-store', (c) => c.profilesUrl);
const identityResolver = to('identity-resolver', (c) => c.identityUrl);

export const PROFILE_SECTIONS = ['traits', 'events', 'identities', 'segments'] as const;
export type ProfileSection = (typeof PROFILE_SECTIONS)[number];

/** Paging of `/events` and of a search. */
export interface Page {
  limit?: number;
  cursor?: string;
}

/** Filters of `/events`: an event name, and ISO 8601 times (since inclusive, until exclusive). */
export interface EventFilter {
  event?: string;
  since?: string;
  until?: string;
}

/** Options of `/traits`: metadata, and only the comma-separated trait names of `include`. */
export interface TraitsOptions {
  verbose?: boolean;
  include?: string;
}

export const profilesRequests = {
  /** `verbose` and `include` only change `traits`; the page and the filters only `events`. */
  get: (c: CliConfig, id: string, section?: ProfileSection, opts: Page & TraitsOptions & EventFilter = {}): ApiRequest =>
    profileStore(
      c,
      'GET',
      `/v1/profiles/${seg(id)}${section ? `/${section}` : ''}`,
      section === 'traits'
        ? { verbose: opts.verbose || undefined, include: opts.include }
        : section === 'events'
          ? { limit: opts.limit, cursor: opts.cursor, event: opts.event, since: opts.since, until: opts.until }
          : {},
    ),
  exportProfile: (c: CliConfig, id: string): ApiRequest => profileStore(c, 'GET', `/v1/profiles/${seg(id)}/export`),
  erase: (c: CliConfig, id: string): ApiRequest => profileStore(c, 'DELETE', `/v1/profiles/${seg(id)}`),
  /** `traits`: name -> value, every one must be equal. */
  search: (c: CliConfig, traits: Record<string, string>, page: Page = {}): ApiRequest =>
    profileStore(c, 'GET', '/v1/profiles', {
      ...Object.fromEntries(Object.entries(traits).map(([k, v]) => [`trait.${k}`, v])),
      limit: page.limit,
      cursor: page.cursor,
    }),
  getSettings: (c: CliConfig): ApiRequest => profileStore(c, 'GET', '/v1/profile-settings'),
  putSettings: (c: CliConfig, timelineRetentionDays: number): ApiRequest =>
    profileStore(c, 'PUT', '/v1/profile-settings', {}, { timelineRetentionDays }),
  deleteIdentity: (c: CliConfig, typeValue: string): ApiRequest => identityResolver(c, 'DELETE', `/v1/identities/${seg(typeValue)}`),
};

/** `name=value` (the value may contain `=`) into `into`; null when it is not that form. */
export function parseTraitFilter(text: string): [string, string] | null {
  const at = text.indexOf('=');
  return at > 0 ? [text.slice(0, at), text.slice(at + 1)] : null;
}
