import {
  eventIdentifierHashes,
  isObject,
  parseObject,
  type IdentifierSource,
  type JsonObject,
} from '../suppression/suppressed-identifiers';

/** A field that is an object, or JSON text of one (the pipeline's Avro records carry traits and context as JSON). */
const objectField = (v: unknown): JsonObject => (typeof v === 'string' ? parseObject(v) : isObject(v) ? v : {});

/**
 * The suppression hashes of the person a dead letter's original record is about, so a regulation
 * can purge the letter: a raw event (its Segment message in `payload`), a later stage's record
 * (the fields themselves) or a plain JSON message. Best effort: [] for anything else.
 */
export function letterIdentifierHashes(workspaceId: string, original: unknown): string[] {
  if (!isObject(original)) return [];
  const message = typeof original['payload'] === 'string' ? parseObject(original['payload']) : original;
  const source: IdentifierSource = {
    type: message['type'],
    userId: message['userId'],
    anonymousId: message['anonymousId'],
    previousId: message['previousId'],
    traits: objectField(message['traits']),
    context: objectField(message['context']),
  };
  return eventIdentifierHashes(workspaceId, source);
}

/** The messageId of a dead letter's original record (a raw event's, a later stage's or a plain JSON message's), or null. */
export function letterMessageId(original: unknown): string | null {
  if (!isObject(original)) return null;
  const own = original['messageId'];
  if (typeof own === 'string' && own !== '') return own.slice(0, 200);
  const payloadId = typeof original['payload'] === 'string' ? parseObject(original['payload'])['messageId'] : undefined;
  return typeof payloadId === 'string' && payloadId !== '' ? payloadId.slice(0, 200) : null;
}
