import type { ApiRequest } from './http';
import { apiKey, type CliConfig } from './requests';

/**
 * Requests of the operations commands, all with the workspace's API key: computed traits and
 * regulations (profile-store), predictions (segmenter), identity reviews (identity-resolver). Pure.
 */
const seg = encodeURIComponent;

const to =
  (service: string, base: (c: CliConfig) => string) =>
  (c: CliConfig, method: ApiRequest['method'], path: string, body?: unknown): ApiRequest => ({
    method,
    service,
    url: `${base(c)}${path}`,
    headers: { authorization: `Bearer ${apiKey(c)}` },
    ...(body === undefined ? {} : { body }),
  });
const profileStore = to('profile-store', (c) => c.profilesUrl);
const segmenter = to('segmenter', (c) => c.segmenterUrl);
const identityResolver = to('identity-resolver', (c) => c.identityUrl);

/** Filters of `identity-reviews list`. */
export interface ReviewListOptions {
  status?: string;
  limit?: number;
  offset?: number;
}

/** `{type, value}` from `type:value` (the value may contain colons). */
export function parseIdentifier(text: string): { type: string; value: string } | null {
  const i = text.indexOf(':');
  return i <= 0 || i === text.length - 1 ? null : { type: text.slice(0, i), value: text.slice(i + 1) };
}

export const operationsRequests = {
  listComputedTraits: (c: CliConfig): ApiRequest => profileStore(c, 'GET', '/v1/computed-traits'),
  getComputedTrait: (c: CliConfig, name: string): ApiRequest => profileStore(c, 'GET', `/v1/computed-traits/${seg(name)}`),
  putComputedTrait: (c: CliConfig, name: string, definition: unknown): ApiRequest =>
    profileStore(c, 'PUT', `/v1/computed-traits/${seg(name)}`, definition),
  deleteComputedTrait: (c: CliConfig, name: string): ApiRequest => profileStore(c, 'DELETE', `/v1/computed-traits/${seg(name)}`),

  createRegulation: (c: CliConfig, type: string, identifiers: unknown): ApiRequest =>
    profileStore(c, 'POST', '/v1/regulations', { type, identifiers }),
  getRegulation: (c: CliConfig, id: string): ApiRequest => profileStore(c, 'GET', `/v1/regulations/${seg(id)}`),

  runPredictions: (c: CliConfig): ApiRequest => segmenter(c, 'POST', '/v1/predictions/run'),
  predictionsReport: (c: CliConfig): ApiRequest => segmenter(c, 'GET', '/v1/predictions/report'),
  profilePredictions: (c: CliConfig, profileId: string): ApiRequest => segmenter(c, 'GET', `/v1/predictions/profiles/${seg(profileId)}`),

  listIdentityReviews: (c: CliConfig, o: ReviewListOptions): ApiRequest => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(o)) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    return identityResolver(c, 'GET', `/v1/identity-reviews${qs ? `?${qs}` : ''}`);
  },
  acceptIdentityReview: (c: CliConfig, id: string): ApiRequest => identityResolver(c, 'POST', `/v1/identity-reviews/${seg(id)}/accept`),
  rejectIdentityReview: (c: CliConfig, id: string): ApiRequest => identityResolver(c, 'POST', `/v1/identity-reviews/${seg(id)}/reject`),
};
