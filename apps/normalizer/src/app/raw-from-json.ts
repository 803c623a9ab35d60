import { workspaceOfKey, type RawEvent } from '@cdp/contracts';
import type { InboundRecord, Rejection } from '@cdp/kafka';
import { REPLAY_OF_HEADER } from './dlq/replay-header';

/**
 * The raw envelope of a plain JSON Segment message produced by an app without a registry
 * client: the workspace comes from the record key, the receipt time from the record timestamp.
 */
export function rawFromJson(record: InboundRecord, value: Buffer): RawEvent | Rejection {
  const workspaceId = record.key ? workspaceOfKey(record.key.toString('utf8')) : '';
  if (!workspaceId)
    return { record, workspaceId: null, reason: 'missing_workspace', message: 'a JSON event needs a key starting with the workspace id' };
  let message: unknown;
  try {
    message = JSON.parse(value.toString('utf8'));
  } catch {
    return { record, workspaceId, reason: 'invalid_json', message: 'value is neither Avro nor valid JSON' };
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
    payload: value.toString('utf8'),
  };
}
