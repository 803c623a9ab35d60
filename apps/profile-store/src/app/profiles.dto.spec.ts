import 'reflect-metadata';
import { DtoValidationPipe } from '@cdp/platform';
import { dtoProblems } from '@cdp/testing';
import { EventsQuery, includedTraits, MAX_INCLUDED_TRAITS, parseIsoTime, TraitsQuery } from './profiles.dto';

const problems = (metatype: typeof TraitsQuery | typeof EventsQuery, query: Record<string, unknown>) =>
  dtoProblems(metatype, query, 'query');

describe('parseIsoTime', () => {
  it('reads dates as UTC midnight and date-times with their zone', () => {
    expect(parseIsoTime('2026-11-29')).toBe(Date.UTC(2026, 10, 29));
    expect(parseIsoTime('2026-11-29T20:00Z')).toBe(Date.UTC(2026, 10, 29, 20));
    expect(parseIsoTime('2026-11-29T20:00:05Z')).toBe(Date.UTC(2026, 10, 29, 20, 0, 5));
    expect(parseIsoTime('2026-11-29T20:00:05.25Z')).toBe(Date.UTC(2026, 10, 29, 20, 0, 5, 250));
    expect(parseIsoTime('2026-11-29T20:00:05.123456789Z')).toBe(Date.UTC(2026, 10, 29, 20, 0, 5, 123));
    expect(parseIsoTime('2026-11-29T21:30:00+01:30')).toBe(Date.UTC(2026, 10, 29, 20));
    expect(parseIsoTime('2026-11-29T18:00:00-0200')).toBe(Date.UTC(2026, 10, 29, 20));
    expect(parseIsoTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoTime('0099-01-01')).toBe(Date.parse('0099-01-01T00:00:00Z'));
  });

  it.each([
    '',
    'yesterday',
    '7d',
    '1764446400000',
    '2026-11-29T20:00:00', // no zone: the server's local time would be a guess
    '2026-11-29 20:00:00Z',
    '2026-11-29T20:00:00 01:00', // an unencoded + arrives as a space
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-11-00',
    '2026-11-29T24:00:00Z',
    '2026-11-29T20:60:00Z',
    '2026-11-29T20:00:60Z',
    '2026-11-29T20:00:00+24:00',
    '2026-11-29T20:00:00Zjunk',
    ' 2026-11-29',
  ])('refuses %j', (text) => expect(parseIsoTime(text)).toBeNull());
});

describe('TraitsQuery', () => {
  it('reads include as a comma-separated list, trimmed, without empty entries or repeats', async () => {
    expect(includedTraits(' plan, country,,plan ,')).toEqual(['plan', 'country']);
    expect(await problems(TraitsQuery, { include: 'plan,country', verbose: 'true' })).toEqual([]);
    const most = Array.from({ length: MAX_INCLUDED_TRAITS }, (_, i) => `t${i}`);
    expect(await problems(TraitsQuery, { include: most.join(',') })).toEqual([]);
    // Repeats count once.
    expect(await problems(TraitsQuery, { include: [...most, 't0'].join(',') })).toEqual([]);
  });

  it.each([
    [{ include: '' }, 'include must name at least one trait, e.g. include=plan,country'],
    [{ include: ' , ,' }, 'include must name at least one trait, e.g. include=plan,country'],
    [{ include: ['plan', 'country'] }, 'include must be one comma-separated list of trait names, e.g. include=plan,country'],
    [
      { include: Array.from({ length: MAX_INCLUDED_TRAITS + 1 }, (_, i) => `t${i}`).join(',') },
      `include names ${MAX_INCLUDED_TRAITS + 1} traits; at most ${MAX_INCLUDED_TRAITS}`,
    ],
  ])('refuses %j naming include', async (query, message) => {
    expect(await problems(TraitsQuery, query)).toEqual([message]);
  });
});

describe('EventsQuery', () => {
  it('accepts an event name, since and until, and trims the name', async () => {
    const query = { event: ' Order Completed ', since: '2026-11-01', until: '2026-12-01T00:00:00+01:00', limit: '10' };
    expect(await problems(EventsQuery, query)).toEqual([]);
    const parsed = (await new DtoValidationPipe().transform(query, { type: 'query', metatype: EventsQuery })) as EventsQuery;
    expect(parsed).toMatchObject({ event: 'Order Completed', since: '2026-11-01', limit: 10 });
    // A name that looks like an operator is just a name.
    expect(await problems(EventsQuery, { event: '$ne' })).toEqual([]);
  });

  it.each([
    [{ event: '' }, /^event must not be empty$/],
    [{ event: '   ' }, /^event must not be empty$/],
    [{ event: 'x'.repeat(201) }, /^event must be at most 200 characters$/],
    [{ event: { $ne: 'x' } }, /^event must be one event name$/],
    [{ since: 'yesterday' }, /^since must be an ISO 8601 date or date-time with a zone, .* \(got "yesterday"\)$/],
    [{ since: '2026-11-29T20:00:00' }, /^since must be an ISO 8601 date or date-time/],
    [{ until: '2026-02-30' }, /^until must be an ISO 8601 date or date-time .*send \+ as %2B/],
    [{ until: '' }, /^until must be an ISO 8601/],
    [{ since: ['2026-11-01', '2026-11-02'] }, /^since must be an ISO 8601/],
  ])('refuses %j naming the parameter', async (query, message) => {
    expect(await problems(EventsQuery, query)).toContainEqual(expect.stringMatching(message));
  });
});
