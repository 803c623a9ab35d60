import { gzipSync } from 'node:zlib';
import { CliError } from './http';

/** One part of a file posted to an import endpoint; the body is the file's own bytes. */
export interface ChunkRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ChunkResponse {
  status: number;
  /** Seconds, from Retry-After, when the collector sent one. */
  retryAfter?: number;
  body: unknown;
}

/** Sends raw file parts (the CLI's JSON Transport cannot): fetch in the CLI, a fake in tests. */
export type ChunkTransport = (request: ChunkRequest) => Promise<ChunkResponse>;

/** Posts gzipped parts with fetch; network failures come back as status 0, so they are retried like 503s. */
export const fetchChunkTransport: ChunkTransport = async (request) => {
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: 'POST',
      headers: { ...request.headers, 'content-encoding': 'gzip', accept: 'application/json' },
      body: gzipSync(request.body),
      signal: AbortSignal.timeout(10 * 60_000),
    });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    return { status: 0, body: { message: `cannot reach the collector at ${new URL(request.url).origin}: ${cause}` } };
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // A proxy's error page: kept as text for the message.
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  return { status: res.status, body, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
};

/** Not a file the CLI can work with. */
export const fileError = (path: string, e: unknown): CliError =>
  new CliError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, 2);
