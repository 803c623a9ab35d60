import type { InboundRecord } from '@cdp/kafka';
import { isText, rawFromJson } from './raw-from-json';

const record = (key: string | null, value: string): InboundRecord => ({
  topic: 'cdp.events.raw.v1',
  partition: 1,
  offset: '42',
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(value),
  timestamp: 1_700_000_000_000,
  headers: {},
});

describe('rawFromJson', () => {
  it('takes the workspace from the key and keeps the payload', () => {
    const r = record('ws1:anon', '{"type":"track","event":"E","messageId":"m1"}');
    expect(rawFromJson(r, r.value as Buffer)).toEqual({
      workspaceId: 'ws1',
      sourceId: null,
      messageId: 'm1',
      type: 'track',
      receivedAt: 1_700_000_000_000,
      payload: '{"type":"track","event":"E","messageId":"m1"}',
    });
  });

  it('reads JSON after a byte order mark or blank space, and keeps the payload without the mark', () => {
    const r = record('ws1:anon', '\uFEFF {"type":"page"}');
    expect(rawFromJson(r, r.value as Buffer)).toMatchObject({ type: 'page', payload: ' {"type":"page"}' });
  });

  it('takes text for JSON and framed or bare Avro for Avro', () => {
    expect(['{}', ' {}', '\uFEFF{}', '\n{}', '[1]', 'not json'].map((t) => isText(Buffer.from(t)))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([[0, 0, 0, 0, 1], [0x08, 0x77], [0x02], []].map((b) => isText(Buffer.from(b)))).toEqual([false, false, false, false]);
  });

  it('says why a value is not JSON', () => {
    const r = record('ws1:anon', 'not json');
    expect(rawFromJson(r, r.value as Buffer)).toMatchObject({
      reason: 'invalid_json',
      message: expect.stringMatching(/^value is neither Confluent Avro \(a 0 byte first\) nor valid JSON: Unexpected token/),
    });
  });

  it('derives a stable messageId from the record position', () => {
    const r = record('ws1:anon', '{"type":"track"}');
    expect(rawFromJson(r, r.value as Buffer)).toMatchObject({ messageId: 'cdp.events.raw.v1-1-42' });
    // A blank messageId is none: kept, it would make the workspace's next blank-id event a duplicate.
    const blank = record('ws1:anon', '{"type":"track","messageId":"  "}');
    expect(rawFromJson(blank, blank.value as Buffer)).toMatchObject({ messageId: 'cdp.events.raw.v1-1-42' });
  });

  it('keeps the first position as the messageId of a DLQ replay, so replays dedupe', () => {
    const r = { ...record('ws1:anon', '{"type":"track"}'), offset: '99', headers: { 'cdp-replay-of': 't.x.cdp.events.raw.v1/0/7' } };
    expect(rawFromJson(r, r.value as Buffer)).toMatchObject({ messageId: 't.x.cdp.events.raw.v1-0-7' });
    const odd = { ...r, headers: { 'cdp-replay-of': 'garbage' } };
    expect(rawFromJson(odd, odd.value as Buffer)).toMatchObject({ messageId: 'cdp.events.raw.v1-1-99' });
  });

  it.each([
    [null, '{"type":"track"}', 'missing_workspace'],
    ['kafka-user-9', '{"type":"track","userId":"kafka-user-9"}', 'missing_workspace'],
    ['ws1:a', '{"type":', 'invalid_json'],
    ['ws1:a', '[1,2]', 'invalid_json'],
    ['ws1:a', 'not json', 'invalid_json'],
  ])('key %j value %s -> %s', (key, value, reason) => {
    const r = record(key, value);
    expect(rawFromJson(r, r.value as Buffer)).toMatchObject({ reason });
  });
});
