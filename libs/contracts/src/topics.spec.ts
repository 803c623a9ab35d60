import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from 'avsc';
import { ALL_TOPICS, identifierHash, recordKey, topicName, Topics, valueSubject, workspaceOfKey } from './topics';

describe('topic catalog', () => {
  it('has one .avsc per topic and one topic per .avsc', () => {
    const files = readdirSync(join(__dirname, '..', 'avro')).map((f) => f.replace(/\.avsc$/, ''));
    expect(ALL_TOPICS.map((t) => t.name).sort()).toEqual(files.sort());
  });

  it.each(ALL_TOPICS.map((t) => [t.name, t] as const))('%s has a valid Avro schema', (_name, def) => {
    expect(() => Type.forSchema(JSON.parse(def.schema))).not.toThrow();
  });

  it('names topics and subjects with an optional namespace', () => {
    expect(topicName(Topics.rawEvents)).toBe('cdp.events.raw.v1');
    expect(topicName(Topics.rawEvents, 't1.')).toBe('t1.cdp.events.raw.v1');
    expect(valueSubject('cdp.events.raw.v1')).toBe('cdp.events.raw.v1-value');
  });

  it('keys start with the workspace id', () => {
    expect(workspaceOfKey(recordKey('ws_1', 'user:with:colons'))).toBe('ws_1');
    expect(workspaceOfKey('kafka-user-9')).toBe('');
    expect(workspaceOfKey(':user-9')).toBe('');
  });

  it('hashes a suppressed identifier per workspace, type and value, never normalizing it', () => {
    const h = identifierHash('ws_1', 'email', 'jane@example.com');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(identifierHash('ws_1', 'email', 'jane@example.com')).toBe(h);
    expect(identifierHash('ws_2', 'email', 'jane@example.com')).not.toBe(h);
    expect(identifierHash('ws_1', 'user_id', 'jane@example.com')).not.toBe(h);
    expect(identifierHash('ws_1', 'email', 'Jane@example.com')).not.toBe(h);
  });

  it('round-trips a resolved event through its schema', () => {
    const type = Type.forSchema(JSON.parse(Topics.resolvedEvents.schema));
    const event = {
      workspaceId: 'demo',
      profileId: 'p1',
      identifiers: [{ type: 'email', value: 'a@b.co' }],
      sourceId: null,
      messageId: 'm1',
      type: 'track',
      event: 'Order Completed',
      name: null,
      userId: null,
      anonymousId: 'anon',
      groupId: null,
      timestamp: 1_700_000_000_000,
      receivedAt: 1_700_000_000_500,
      traits: '{}',
      properties: '{"total":120}',
      context: '{}',
    };
    expect(type.fromBuffer(type.toBuffer(event))).toEqual(event);
  });
});
