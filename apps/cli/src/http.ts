/** A request the CLI makes: built by pure functions, sent by a Transport (fetch, or a fake in tests). */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Which service answers, for error messages. */
  service: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  /** How long to wait for the answer [30 s; at most 300 s]. */
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export type Transport = (request: ApiRequest) => Promise<ApiResponse>;

/** A failure the user can act on; main prints the message and exits non-zero. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Node's fetch gives up on an answer's headers after 300 s whatever the signal says: no wait is longer. */
const MAX_WAIT_MS = 300_000;

export const fetchTransport: Transport = async (request) => {
  const timeoutMs = Math.min(request.timeoutMs ?? 30_000, MAX_WAIT_MS);
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError')
      throw new CliError(
        `no answer from the ${request.service} within ${Math.round(timeoutMs / 1000)} s: it may still be at work (a long delete goes on); look again later`,
      );
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new CliError(`cannot reach the ${request.service} at ${new URL(request.url).origin}: ${cause}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page, say): keep the text for the message.
  }
  return { status: res.status, body };
};

/** The service's own message: Nest answers {message: string | string[]}. */
export function serviceMessage(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 500);
  if (typeof body === 'object' && body !== null) {
    const message = (body as { message?: unknown }).message;
    if (Array.isArray(message)) return message.map(String).join('; ');
    if (typeof message === 'string') return message;
  }
  return JSON.stringify(body);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Sends and returns the body of a 2xx; anything else becomes a CliError with the status and the service's message. */
export async function call(transport: Transport, request: ApiRequest): Promise<unknown> {
  const res = await transport(request);
  if (res.status >= 200 && res.status < 300) return res.body;
  const path = new URL(request.url).pathname;
  const reason = REASONS[res.status] ?? 'Error';
  throw new CliError(`${request.method} ${path} (${request.service}): ${res.status} ${reason}: ${serviceMessage(res.body)}`);
}
