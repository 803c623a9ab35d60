import { DLQ_REASONS } from '@cdp/contracts';
import { columnTypes, dlqReason, eventName, identifierArg, intInRange, timeArg } from './arguments';
import { runWithFakes } from './cli-test-support';

const cli = (argv: string[]) => runWithFakes(argv, {}, { CDP_API_KEY: 'ak', CDP_WRITE_KEY: 'wk' });

describe('option parsers', () => {
  it('takes integers within the bounds only', () => {
    const limit = intInRange(1, 200);
    expect(limit('1')).toBe(1);
    expect(limit('200')).toBe(200);
    for (const bad of ['0', '201', '-1', '2.5', 'x', '', ' ', '1e2', '0x10', '+3', '1.0', ' 5'])
      expect(() => limit(bad)).toThrow('must be an integer from 1 to 200');
    expect(intInRange(0, 36_500)('0')).toBe(0);
  });

  it('takes type:value identifiers as typed', () => {
    expect(identifierArg('email:Jane@Example.com')).toBe('email:Jane@Example.com');
    expect(identifierArg('url:http://x')).toBe('url:http://x');
    for (const bad of ['bogus', ':x', 'email:']) expect(() => identifierArg(bad)).toThrow('must be type:value');
  });

  it('takes --types as the collector reads it: <column>:string|number|boolean, a column may hold colons', () => {
    for (const ok of ['ltv:number', 'ltv:number, vip : boolean', 'a:b:string', 'ltv:number,']) expect(columnTypes(ok)).toBe(ok);
    for (const bad of ['ltv', 'ltv:int', ':number', 'ltv:number,vip', 'ltv:Number'])
      expect(() => columnTypes(bad)).toThrow('must be <column>:<type> with a type of string, number, boolean');
    expect(() => columnTypes('a:number, a :string')).toThrow('column "a" is given two types');
  });

  it('takes --event as the collector does: 1 to 200 characters once trimmed', () => {
    expect(eventName(' Order Completed ')).toBe('Order Completed');
    for (const bad of ['', '   ', 'x'.repeat(201)]) expect(() => eventName(bad)).toThrow('must be an event name of 1 to 200 characters');
  });

  it('takes times as the services read them: a duration back from now or an ISO 8601 time', () => {
    for (const ok of ['30m', '24h', '7d', '2026-12-01', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00.5+01:00'])
      expect(timeArg(ok)).toBe(ok);
    for (const bad of ['yesterday', '7 days', '2026-13-45', '', '1w'])
      expect(() => timeArg(bad)).toThrow('must be an ISO 8601 time or a duration like 30m, 24h, 7d');
  });

  it('takes the DLQ reason codes of the shared list only', () => {
    for (const code of DLQ_REASONS) expect(dlqReason(code)).toBe(code);
    expect(() => dlqReason('bogus')).toThrow(`must be a DLQ reason code: ${DLQ_REASONS.join(', ')}`);
  });
});

describe('usage errors', () => {
  it.each([
    [['import', 'crm.csv', '--types', 'ltv:integer'], '"ltv:integer" must be <column>:<type>'],
    [['identities', 'delete', 'bogus'], 'must be type:value'],
    [['identities', 'get', 'bogus'], 'must be type:value'],
    [['profiles', 'get', 'p_1', '--section', 'events', '--limit', '201'], 'must be an integer from 1 to 200'],
    [['profiles', 'search', '-t', 'plan=pro', '--limit', '201'], 'must be an integer from 1 to 200'],
    [['identity-reviews', 'list', '--limit', '201'], 'must be an integer from 1 to 200'],
    [['identity-reviews', 'list', '--offset', '1000001'], 'must be an integer from 0 to 1000000'],
    [['segments', 'members', 's', '--limit', '1001'], 'must be an integer from 1 to 1000'],
    [['segments', 'size-history', 's', '--days', '367'], 'must be an integer from 1 to 366'],
    [['dlq', 'list', '--limit', '501'], 'must be an integer from 1 to 500'],
    [['dlq', 'replay', '--limit', '10001'], 'must be an integer from 1 to 10000'],
    [['dlq', 'list', '--reason', 'bogus'], 'must be a DLQ reason code: empty_value, '],
    [['dlq', 'replay', '--reason', 'bogus'], 'must be a DLQ reason code: empty_value, '],
    [['computed-traits', 'put', 'x', '--event', 'E', '--aggregation', 'count', '--window-days', '366'], 'must be an integer from 1 to 365'],
    [['profile-settings', 'set', '--timeline-retention-days', '36501'], 'must be an integer from 0 to 36500'],
    [['dlq', 'list', '--since', 'yesterday'], 'must be an ISO 8601 time or a duration'],
    [['dlq', 'list', '--stage', 'bogus'], 'Allowed choices are normalizer, identity-resolver, profile-store, segmenter'],
    [['tracking-plans', 'violations', '--since', 'yesterday'], 'must be an ISO 8601 time or a duration'],
    [['identity-reviews', 'list', '--status', 'bogus'], 'Allowed choices are pending, accepted, rejected'],
    [['import', 'crm.csv', '--types', 'a:number,a:string'], 'column "a" is given two types'],
  ])('%j exits 2 with a message, sending nothing', async (argv, message) => {
    const r = await cli(argv);
    expect({ code: r.code, sent: r.sent }).toEqual({ code: 2, sent: [] });
    expect(r.err).toContain(message);
  });
});
