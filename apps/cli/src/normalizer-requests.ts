import type { ApiRequest } from './http';
import { apiKey, type CliConfig } from './requests';

/** Requests to the normalizer's API (settings, tracking plans, DLQ), all with an admin API key. */
const seg = encodeURIComponent;
const PLAN_MODES = ['allow', 'flag', 'block'] as const;
export type PlanMode = (typeof PLAN_MODES)[number];
export { PLAN_MODES };

/** Filters of `dlq list` and `dlq replay`: times are ISO 8601 or durations back from now (30m, 24h, 7d). */
export interface DlqOptions {
  reason?: string;
  stage?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** Filters of `tracking-plans violations`. */
export interface ViolationOptions {
  event?: string;
  since?: string;
  limit?: number;
}

/** A query string of the options given (none: empty). */
const queryOf = (o: object): string => {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined) query.set(k, String(v));
  const qs = query.toString();
  return qs ? `?${qs}` : '';
};

const normalizer = (c: CliConfig, method: ApiRequest['method'], path: string, body?: unknown): ApiRequest => ({
  method,
  service: 'normalizer',
  url: `${c.normalizerUrl}${path}`,
  headers: { authorization: `Bearer ${apiKey(c)}` },
  ...(body === undefined ? {} : { body }),
});

/** `identify/traits` for the identify traits schema, else the event's own path segment. */
const planPath = (event: string | undefined): string => `/v1/tracking-plans/${event === undefined ? 'identify/traits' : seg(event)}`;

export const normalizerRequests = {
  /** What the workspace's PII policy stores instead of each identifier (see `regulations create`). */
  piiHashes: (c: CliConfig, identifiers: readonly { type: string; value: string }[]): ApiRequest =>
    normalizer(c, 'POST', '/v1/settings/pii/hashes', { identifiers }),
  getSettings: (c: CliConfig): ApiRequest => normalizer(c, 'GET', '/v1/settings'),
  putSettings: (c: CliConfig, settings: unknown): ApiRequest => normalizer(c, 'PUT', '/v1/settings', settings),

  listPlans: (c: CliConfig): ApiRequest => normalizer(c, 'GET', '/v1/tracking-plans'),
  putPlanOptions: (c: CliConfig, options: { mode?: PlanMode; allowUnplannedEvents?: boolean }): ApiRequest =>
    normalizer(c, 'PUT', '/v1/tracking-plans', options),
  /** `event` undefined means the identify traits schema. */
  getPlan: (c: CliConfig, event: string | undefined): ApiRequest => normalizer(c, 'GET', planPath(event)),
  putPlan: (c: CliConfig, event: string | undefined, schema: unknown, mode?: PlanMode): ApiRequest =>
    normalizer(c, 'PUT', planPath(event), mode === undefined ? { schema } : { schema, mode }),
  deletePlan: (c: CliConfig, event: string | undefined): ApiRequest => normalizer(c, 'DELETE', planPath(event)),
  listViolations: (c: CliConfig, o: ViolationOptions): ApiRequest => normalizer(c, 'GET', `/v1/tracking-plan-violations${queryOf(o)}`),

  listDlq: (c: CliConfig, o: DlqOptions): ApiRequest => normalizer(c, 'GET', `/v1/dlq${queryOf(o)}`),
  replayDlq: (c: CliConfig, o: DlqOptions & { again?: boolean }): ApiRequest =>
    normalizer(c, 'POST', '/v1/dlq/replay', Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))),
};
