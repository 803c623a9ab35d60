import { randomUUID } from 'node:crypto';
import { isEventType, type EventType } from '@cdp/contracts';
import { objectLimitError, plainIp } from '@cdp/cleaning';

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
  return eventsOf(route, body).map(([m, at]) => {
    checkSize(JSON.stringify(m), at);
    return m;
  });
}

/** The events of a request with their place in it (`batch[3].`), fields checked, sizes not yet. */
function eventsOf(route: EventType | 'batch', body: unknown): [Record<string, unknown>, string][] {
  if (!isObject(body)) throw new InvalidMessageError('body must be a JSON object');
  if (route !== 'batch') return [[checkFields({ ...body, type: route }, ''), '']];
  const batch = body['batch'];
  if (!Array.isArray(batch)) throw new InvalidMessageError('"batch" must be an array of events');
  if (batch.length === 0) throw new InvalidMessageError('"batch" is empty');
  return batch.map((m, i) => [checkFields(m, `batch[${i}].`), `batch[${i}].`]);
}

/** The event `at` (`batch[3].` or '') names, for messages about the event as a whole. */
const eventAt = (at: string): string => at.replace(/\.$/, '') || 'event';

function checkFields(message: unknown, at: string): Record<string, unknown> {
  if (!isObject(message)) throw new InvalidMessageError(`${eventAt(at)} must be a JSON object`);
  const type = message['type'];
  if (!isEventType(type)) throw new InvalidMessageError(`${at}type must be one of identify, track, page, screen, group, alias`);
  if (!hasId(message['userId']) && !hasId(message['anonymousId'])) {
    wrongType(message, 'userId', at);
    wrongType(message, 'anonymousId', at);
    throw new InvalidMessageError(`${at}userId or ${at}anonymousId is required`);
  }
  for (const [field, required] of [
    ['event', 'track'],
    ['groupId', 'group'],
    ['previousId', 'alias'],
  ] as const) {
    if (type !== required || hasId(message[field])) continue;
    wrongType(message, field, at);
    throw new InvalidMessageError(`${at}${field} is required for ${required}`);
  }
  for (const field of ['properties', 'traits', 'context', 'integrations'] as const) {
    if (message[field] !== undefined && message[field] !== null && !isObject(message[field])) {
      throw new InvalidMessageError(`${at}${field} must be an object`);
    }
  }
  // The normalizer's depth and key limits, answered here rather than dead-lettered after a 200.
  for (const field of ['properties', 'traits', 'context'] as const) {
    const error = objectLimitError(message[field], field);
    if (error) throw new InvalidMessageError(`${at}${error.message}`);
  }
  if (message['messageId'] !== undefined && typeof message['messageId'] !== 'string')
    throw new InvalidMessageError(`${at}messageId must be a string`);
  return message;
}

/** A required id that is there but of the wrong type is named as such, not reported missing. */
function wrongType(message: Record<string, unknown>, field: string, at: string): void {
  const value = message[field];
  if (value !== undefined && value !== null && typeof value !== 'string' && typeof value !== 'number')
    throw new InvalidMessageError(`${at}${field} must be a string`);
}

/** The per-event limit, on the event's JSON as the sender sent it. */
function checkSize(json: string, at: string): void {
  const size = Buffer.byteLength(json);
  if (size > MAX_EVENT_BYTES) throw new InvalidMessageError(`${eventAt(at)} is ${size} bytes, over the 32 KB per-event limit`);
}

/** An enriched event and its JSON (the raw record's payload), serialized once. */
export class PreparedEvent {
  constructor(
    readonly message: SegmentMessage,
    readonly json: string,
  ) {}
}

/**
 * messagesOf and enrich for a whole request, each event serialized once. The 32 KB limit is on
 * the event as sent; enrich() only adds to most events (messageId, receivedAt, context fields), so
 * for those an enriched JSON within the limit proves the event was, and the event as sent is only
 * serialized again when the enriched one is over. Events that enrich() may shrink (a write key or
 * a receivedAt of their own, a context.library that is not an object) are measured before.
 */
/** What a batch request gives all its events: its `context` (under each event's own) and its `sentAt` (unless an event has one). */
export interface BatchFields {
  context?: unknown;
  sentAt?: unknown;
}

export function prepareEvents(route: EventType | 'batch', body: unknown, edge: EdgeContext, batch?: BatchFields): PreparedEvent[] {
  const events = eventsOf(route, body).map(([m, at]) => ({ m, at, grows: onlyGrows(m) }));
  for (const { m, at, grows } of events) if (!grows) checkSize(JSON.stringify(m), at);
  return events.map(({ m, at, grows }) => {
    const sent = { context: m['context'], messageId: m['messageId'] };
    const message = enrich(m, edge, batch);
    const json = JSON.stringify(message);
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so most events need no count.
    if (grows && json.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(json) > MAX_EVENT_BYTES)
      checkSize(JSON.stringify(asSent(message, sent)), at);
    return new PreparedEvent(message, json);
  });
}

/** Whether enrich() can only lengthen the event's JSON (see prepareEvents). */
function onlyGrows(m: Record<string, unknown>): boolean {
  if ('writeKey' in m || 'receivedAt' in m) return false;
  const context = m['context'];
  return !isObject(context) || context['library'] === undefined || isObject(context['library']);
}

/** An enriched event of onlyGrows() as it was sent (field order aside, which does not change its size). */
function asSent(message: SegmentMessage, sent: { context: unknown; messageId: unknown }): Record<string, unknown> {
  const { receivedAt: _receivedAt, context: _context, messageId: _messageId, ...fields } = message;
  if (sent.context !== undefined) fields['context'] = sent.context;
  if (sent.messageId !== undefined) fields['messageId'] = sent.messageId;
  return fields;
}

/**
 * Adds what the edge knows: messageId when missing, receivedAt, context.ip, userAgent, library.
 * Completes `message` in place and returns it: callers hand over a message of their own (parsed
 * from the request), and copying each event cost a tenth of the collector's CPU. The keys keep
 * their order (existing ones where they were, new ones at the end), as a copy would.
 */
export function enrich(message: Record<string, unknown>, edge: EdgeContext, batch?: BatchFields): SegmentMessage {
  // A new object: the batch's context is shared by its events, and the event's own is kept as sent (see prepareEvents).
  const context: Record<string, unknown> = Object.assign(
    {},
    isObject(batch?.context) ? batch.context : undefined,
    isObject(message['context']) ? message['context'] : undefined,
  );
  // SDKs that batch (analytics-node, analytics-next's batching) stamp sentAt on the batch only;
  // the normalizer's clock-skew correction reads it from the event.
  if (message['sentAt'] === undefined && batch?.sentAt !== undefined) message['sentAt'] = batch.sentAt;
  if (context['ip'] === undefined && edge.ip) context['ip'] = plainIp(edge.ip);
  if (context['userAgent'] === undefined && edge.userAgent) context['userAgent'] = edge.userAgent;
  if (!isObject(context['library'])) context['library'] = { name: 'unknown', version: 'unknown' };
  // analytics.js puts the write key in every event; it is a credential, not event data.
  if ('writeKey' in message) delete message['writeKey'];
  // A blank id is no id: kept, it would make every later blank-id event of the workspace a duplicate.
  if (typeof message['messageId'] !== 'string' || message['messageId'].trim() === '') message['messageId'] = randomUUID();
  message['receivedAt'] = edge.receivedAt.toISOString();
  message['context'] = context;
  return message as SegmentMessage;
}

/** The partitioning id: events of one browser or user stay in order. */
export const partitionId = (m: SegmentMessage): string => String(m['anonymousId'] ?? m['userId'] ?? m.messageId);
