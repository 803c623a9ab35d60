import type { ApiRequest } from './http';
import { apiKey, type CliConfig } from './requests';

/** Requests of the `segments` commands (segmenter, the workspace's API key). Pure. */
const seg = encodeURIComponent;

const segmenter = (c: CliConfig, method: ApiRequest['method'], path: string, body?: unknown): ApiRequest => ({
  method,
  service: 'segmenter',
  url: `${c.segmenterUrl}/v1/segments${path}`,
  headers: { authorization: `Bearer ${apiKey(c)}` },
  ...(body === undefined ? {} : { body }),
});

const withQuery = (path: string, query: Record<string, string | number | undefined>): string => {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  const text = qs.toString();
  return text ? `${path}?${text}` : path;
};

/** The body of a segment create or update (PUT replaces the whole segment, so omitted options are cleared). */
export interface SegmentFields {
  name: string;
  definition: unknown;
  outputTraits?: string[];
  outputTopic?: string;
}

const segmentBody = (f: SegmentFields): Record<string, unknown> => ({
  name: f.name,
  definition: f.definition,
  ...(f.outputTraits === undefined ? {} : { outputTraits: f.outputTraits }),
  ...(f.outputTopic === undefined ? {} : { outputTopic: f.outputTopic }),
});

export const segmentsRequests = {
  list: (c: CliConfig): ApiRequest => segmenter(c, 'GET', ''),
  get: (c: CliConfig, id: string): ApiRequest => segmenter(c, 'GET', `/${seg(id)}`),
  create: (c: CliConfig, fields: SegmentFields): ApiRequest => segmenter(c, 'POST', '', segmentBody(fields)),
  update: (c: CliConfig, id: string, fields: SegmentFields): ApiRequest => segmenter(c, 'PUT', `/${seg(id)}`, segmentBody(fields)),
  // The answer comes once every member has exited (a large segment takes a while; past the wait
  // the removal goes on in the service, and the segment answers 404 once it is done).
  remove: (c: CliConfig, id: string): ApiRequest => ({ ...segmenter(c, 'DELETE', `/${seg(id)}`), timeoutMs: 300_000 }),
  preview: (c: CliConfig, definition: unknown): ApiRequest => segmenter(c, 'POST', '/preview', { definition }),
  members: (c: CliConfig, id: string, limit?: number, after?: string): ApiRequest =>
    segmenter(c, 'GET', withQuery(`/${seg(id)}/members`, { limit, after })),
  sizeHistory: (c: CliConfig, id: string, days?: number): ApiRequest =>
    segmenter(c, 'GET', withQuery(`/${seg(id)}/size-history`, { days })),
  schema: (c: CliConfig): ApiRequest => segmenter(c, 'GET', '/schema'),
};

/** `a,b c` -> ['a', 'b', 'c'] (de-duplicated); the segmenter checks the names. */
export function parseTraitList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((s) => s !== ''))];
}
