import { isEventType, type EventType, type NormalizedEvent } from '@cdp/contracts';
import { cleanContext, cleanProperties, cleanTraits, type CleaningOptions } from './clean-fields';
import { sanitizeObject, UnsafeInputError, type JsonObject } from './safe-json';
import { correctedTimestamp, type TimestampReplaced } from './time';

/** DLQ reason codes of the cleaning stage (documented in libs/cleaning/README.md). */
export type RejectReason =
  | 'invalid_json'
  | 'invalid_type'
  | 'missing_identity'
  | 'missing_event'
  | 'missing_group_id'
  | 'missing_previous_id'
  | 'too_deep'
  | 'too_many_keys'
  | 'too_large';

export type CleanResult = { ok: true; event: NormalizedEvent } | { ok: false; reason: RejectReason; message: string };

/** A NormalizedEvent whose JSON fields are still objects (they are serialized once, when it is produced). */
export type NormalizedFields = Omit<NormalizedEvent, 'traits' | 'properties' | 'context'> & {
  traits: JsonObject;
  properties: JsonObject;
  context: JsonObject;
};

/** `timestampReplaced`: why receivedAt stands in for the time the event gave (null: it gave none, or its time was taken). */
export type CleanFieldsResult =
  | { ok: true; event: NormalizedFields; timestampReplaced: TimestampReplaced | null }
  | { ok: false; reason: RejectReason; message: string };

/** The NormalizedEvent of cleaned fields: traits, properties and context as JSON text. */
export const serializeFields = (e: NormalizedFields): NormalizedEvent => ({
  ...e,
  traits: JSON.stringify(e.traits),
  properties: JSON.stringify(e.properties),
  context: JSON.stringify(e.context),
});

/** Where an event came from, known before its payload is read. */
export interface Envelope {
  workspaceId: string;
  sourceId: string | null;
  messageId: string;
  receivedAt: number;
}

const text = (v: unknown): string | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' ? null : t;
};

const reject = (reason: RejectReason, message: string): CleanFieldsResult => ({ ok: false, reason, message });

/**
 * Turns one Segment message into a NormalizedEvent, or says why it cannot.
 * Pure: the same input and options always give the same output.
 */
export function normalizeEvent(message: unknown, envelope: Envelope, options: CleaningOptions = {}): CleanResult {
  const result = normalizeFields(message, envelope, options);
  return result.ok ? { ok: true, event: serializeFields(result.event) } : result;
}

/**
 * normalizeEvent with traits, properties and context left as objects, for a caller that reads
 * them further (identifiers, consent, tracking plan, PII) before it serializes them once.
 * Plain JSON values; the context's `device`/`os`/`browser` objects derived from the user agent
 * are shared between events and frozen (copy before changing them, as applyPii-style code does).
 */
export function normalizeFields(message: unknown, envelope: Envelope, options: CleaningOptions = {}): CleanFieldsResult {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return reject('invalid_json', 'event is not a JSON object');
  }
  const m = message as Record<string, unknown>;
  const type = m['type'];
  if (!isEventType(type))
    return reject(
      'invalid_type',
      `type must be one of identify, track, page, screen, group, alias (got ${JSON.stringify(type)?.slice(0, 40)})`,
    );
  const userId = text(m['userId']);
  const anonymousId = text(m['anonymousId']);
  if (!userId && !anonymousId) return reject('missing_identity', `${type} needs userId or anonymousId`);
  const event = text(m['event']);
  if (type === 'track' && !event) return reject('missing_event', 'track needs an event name in "event"');
  const groupId = text(m['groupId']);
  if (type === 'group' && !groupId) return reject('missing_group_id', 'group needs "groupId"');
  const previousId = text(m['previousId']);
  if (type === 'alias' && !previousId) return reject('missing_previous_id', 'alias needs "previousId"');

  try {
    const context = cleanContext(sanitizeObject(m['context'], 'context'), options);
    // identify carries traits at the top level; other calls may carry them in context.traits.
    const rawTraits = type === 'identify' || type === 'group' ? m['traits'] : (context['traits'] ?? m['traits']);
    const traits = cleanTraits(sanitizeObject(rawTraits, 'traits'), options);
    const { timestamp, replaced } = correctedTimestamp(m, envelope.receivedAt);
    return {
      ok: true,
      timestampReplaced: replaced,
      event: {
        workspaceId: envelope.workspaceId,
        sourceId: envelope.sourceId,
        messageId: envelope.messageId,
        type,
        event,
        name: text(m['name']),
        userId,
        anonymousId,
        groupId,
        previousId,
        timestamp,
        receivedAt: envelope.receivedAt,
        traits,
        properties: withCategory(cleanProperties(sanitizeObject(m['properties'], 'properties')), type, text(m['category'])),
        context,
        violations: [],
      },
    };
  } catch (e) {
    if (e instanceof UnsafeInputError) return reject(e.code, e.message);
    throw e;
  }
}

/**
 * A page or screen call's `category` (a top-level field of the Segment spec, with no field of its
 * own downstream) kept as `properties.category`, unless the properties name one already.
 */
function withCategory(properties: JsonObject, type: EventType, category: string | null): JsonObject {
  if ((type !== 'page' && type !== 'screen') || category === null || Object.hasOwn(properties, 'category')) return properties;
  return { ...properties, category };
}
