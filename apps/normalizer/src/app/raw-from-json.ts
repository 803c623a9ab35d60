import { workspaceOfKey, type RawEvent } from '@cdp/contracts';
import type { InboundRecord, Rejection } from '@cdp/kafka';
import { REPLAY_OF_HEADER } from './dlq/replay-header';

/**
 * Whether a value is text to read as JSON rather than Avro: its first byte is printable ASCII,
 * blank space or a UTF-8 byte order mark. Confluent Avro starts with a 0 byte and bare Avro with a
 * length or a union index, so neither is taken for text, and text that is not JSON is
 * `invalid_json` with the parser's reason instead of "no magic byte".
 */
export const isText = (value: Buffer): boolean => {
  const first = value[0];
  return first !== undefined && ((first >= 0x20 && first <= 0x7e) || first === 0x09 || first === 0x0a || first === 0x0d || first === 0xef);
};

/**
 * The raw envelope of a plain JSON Segment message produced by an app without a registry
 * client: the workspace comes from the record key, the receipt time from the record timestamp.
 */
export function rawFromJson(record: InboundRecord, value: Buffer): RawEvent | Rejection {
  const workspaceId = record.key ? workspaceOfKey(record.key.toString('utf8')) : '';
  if (!workspaceId)
    return {
      record,
      workspaceId: null,
      reason: 'missing_workspace',
      message: 'a JSON event needs a key <workspaceId>:<id> (e.g. ws_1:user-42)',
    };
  // A UTF-8 byte order mark is no part of the JSON (JSON.parse already skips blank space).
  const text = value.toString('utf8').replace(/^\uFEFF/, '');
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (e) {
    const why = e instanceof SyntaxError ? `: ${e.message}` : '';
    return {
      record,
      workspaceId,
      reason: 'invalid_json',
      message: `value is neither Confluent Avro (a 0 byte first) nor valid JSON${why}`,
    };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { record, workspaceId, reason: 'invalid_json', message: 'a JSON event must be an object' };
  }
  const m = message as Record<string, unknown>;
  // Without a messageId the record's position is a stable id, so a redelivery dedupes; a DLQ
  // replay names the position the record was first written at, so replays dedupe too.
  const replayOf = /^(.+)\/(\d+)\/(\d+)$/.exec(record.headers[REPLAY_OF_HEADER] ?? '');
  const position = replayOf ? `${replayOf[1]}-${replayOf[2]}-${replayOf[3]}` : `${record.topic}-${record.partition}-${record.offset}`;
  const messageId = typeof m['messageId'] === 'string' && m['messageId'].trim() !== '' ? m['messageId'] : position;
  return {
    workspaceId,
    sourceId: null,
    messageId,
    type: String(m['type'] ?? ''),
    receivedAt: record.timestamp,
    payload: text,
  };
}
