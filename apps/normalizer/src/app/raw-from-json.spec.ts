import type { InboundRecord } from '@cdp/kafka';
import { rawFromJson } from './raw-from-json';

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
    ['ws1:a', '{"type":', 'invalid_json'],
    ['ws1:a', '[1,2]', 'invalid_json'],
  ])('key %j value %s -> %s', (key, value, reason) => {
    const r = record(key, value);
    expect(rawFromJson(r, r.value as Buffer)).toMatchObject({ reason });
  });
});
