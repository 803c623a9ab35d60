import { randomUUID } from 'node:crypto';
import { isEventType, type EventType } from '@cdp/contracts';

/** Segment's limits: 32 KB per event, 500 KB per request. */
export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_REQUEST_BYTES = 500 * 1024;

export class InvalidMessageError extends Error {}

export type SegmentMessage = Record<string, unknown> & { type: EventType; messageId: string };

/** What the edge knows about the request, added to every event. */
export interface EdgeContext {
  receivedAt: Date;
  ip: string | undefined;
  userAgent: string | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasId = (v: unknown): boolean => (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v));

/**
 * The events of a request: the body itself for /v1/<type>, its `batch` array for /v1/batch
 * and /v1/import. Each is checked against the per-call requirements of the Tracking API.
 */
export function messagesOf(route: EventType | 'batch', body: unknown): Record<string, unknown>[] {
  if (!isObject(body)) throw new InvalidMessageError('body must be a JSON object');
  if (route !== 'batch') return [check({ ...body, type: route }, '')];
  const batch = body['batch'];
  if (!Array.isArray(batch)) throw new InvalidMessageError('"batch" must be an array of events');
  if (batch.length === 0) throw new InvalidMessageError('"batch" is empty');
  return batch.map((m, i) => check(m, `batch[${i}].`));
}

function check(message: unknown, at: string): Record<string, unknown> {
  if (!isObject(message)) throw new InvalidMessageError(`${at || 'event'} must be a JSON object`);
  const type = message['type'];
  if (!isEventType(type)) throw new InvalidMessageError(`${at}type must be one of identify, track, page, screen, group, alias`);
  if (!hasId(message['userId']) && !hasId(message['anonymousId']))
    throw new InvalidMessageError(`${at}userId or ${at}anonymousId is required`);
  if (type === 'track' && !hasId(message['event'])) throw new InvalidMessageError(`${at}event is required for track`);
  if (type === 'group' && !hasId(message['groupId'])) throw new InvalidMessageError(`${at}groupId is required for group`);
  if (type === 'alias' && !hasId(message['previousId'])) throw new InvalidMessageError(`${at}previousId is required for alias`);
  for (const field of ['properties', 'traits', 'context', 'integrations'] as const) {
    if (message[field] !== undefined && message[field] !== null && !isObject(message[field])) {
      throw new InvalidMessageError(`${at}${field} must be an object`);
    }
  }
  if (message['messageId'] !== undefined && typeof message['messageId'] !== 'string')
    throw new InvalidMessageError(`${at}messageId must be a string`);
  const size = Buffer.byteLength(JSON.stringify(message));
  if (size > MAX_EVENT_BYTES) throw new InvalidMessageError(`${at || 'event'} is ${size} bytes, over the 32 KB per-event limit`);
  return message;
}

/** Adds what the edge knows: messageId when missing, receivedAt, context.ip, userAgent, library. */
export function enrich(message: Record<string, unknown>, edge: EdgeContext, batchContext?: unknown): SegmentMessage {
  const context: Record<string, unknown> = {
    ...(isObject(batchContext) ? batchContext : {}),
    ...(isObject(message['context']) ? message['context'] : {}),
  };
  if (context['ip'] === undefined && edge.ip) context['ip'] = edge.ip;
  if (context['userAgent'] === undefined && edge.userAgent) context['userAgent'] = edge.userAgent;
  if (!isObject(context['library'])) context['library'] = { name: 'unknown', version: 'unknown' };
  // analytics.js puts the write key in every event; it is a credential, not event data. (Most
  // events have none, and copying without it is the slow path of this function.)
  const fields = 'writeKey' in message ? withoutWriteKey(message) : message;
  return {
    ...fields,
    type: message['type'] as EventType,
    messageId: typeof message['messageId'] === 'string' && message['messageId'] !== '' ? message['messageId'] : randomUUID(),
    receivedAt: edge.receivedAt.toISOString(),
    context,
  };
}

function withoutWriteKey(message: Record<string, unknown>): Record<string, unknown> {
  const { writeKey: _writeKey, ...fields } = message;
  return fields;
}

/** The partitioning id: events of one browser or user stay in order. */
export const partitionId = (m: SegmentMessage): string => String(m['anonymousId'] ?? m['userId'] ?? m.messageId);
