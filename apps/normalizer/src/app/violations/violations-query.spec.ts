import { parseViolationsQuery } from './violations-query';

const NOW = Date.parse('2026-11-29T20:00:00Z');

describe('parseViolationsQuery', () => {
  it('defaults the limit and reads event, since (ISO or a duration) and limit', () => {
    expect(parseViolationsQuery({}, NOW)).toEqual({ ok: true, value: { limit: 50 } });
    expect(parseViolationsQuery({ event: 'Order Completed', since: '24h', limit: '200' }, NOW)).toEqual({
      ok: true,
      value: { event: 'Order Completed', since: new Date(NOW - 86_400_000), limit: 200 },
    });
    expect(parseViolationsQuery({ since: '2026-11-01T00:00:00Z' }, NOW)).toEqual({
      ok: true,
      value: { since: new Date('2026-11-01T00:00:00Z'), limit: 50 },
    });
  });

  it.each([
    [{ limit: '201' }, /limit must be an integer from 1 to 200/],
    [{ limit: '0' }, /limit/],
    [{ since: 'yesterday' }, /since must be an ISO 8601 time/],
    [{ event: '' }, /event must be one event name/],
    [{ event: ['a', 'b'] }, /event must be one event name/],
    [{ event: 'x'.repeat(201) }, /event must be one event name of 1 to 200/],
    [{ reason: 'x' }, /unknown filter "reason" \(known: event, since, limit\)/],
  ])('refuses %j with a clear message', (query, problem) => {
    const parsed = parseViolationsQuery(query as Record<string, unknown>, NOW);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});
