import fc from 'fast-check';
import type { RejectReason } from '@cdp/cleaning';
import { DLQ_REASONS, type DlqReason } from '@cdp/contracts';
import type { DecodeFailure } from '@cdp/kafka';
import { parseFilter, parseLimit, parseTime } from './dlq-query';

const NOW = Date.parse('2026-11-29T20:00:00Z');
const FIELDS = ['reason', 'stage', 'since', 'until'];

describe('parseTime', () => {
  it.each([
    ['30m', '2026-11-29T19:30:00.000Z'],
    ['24h', '2026-11-28T20:00:00.000Z'],
    ['7d', '2026-11-22T20:00:00.000Z'],
    ['2026-11-01', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01T10:00:00+02:00', '2026-11-01T08:00:00.000Z'],
  ])('reads %s', (input, iso) => {
    expect(parseTime('since', input, NOW)).toEqual({ ok: true, value: new Date(iso) });
  });

  it.each(['yesterday', '', '7w', '2026-13-45', 'Sun Nov 29 2026', 12])('refuses %j', (input) => {
    const parsed = parseTime('since', input, NOW);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(/^since must be/);
  });

  it('never throws and never answers an invalid date', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const parsed = parseTime('since', s, NOW);
        if (parsed.ok) expect(Number.isFinite(parsed.value.getTime())).toBe(true);
      }),
    );
  });
});

describe('parseFilter', () => {
  it('reads codes and times', () => {
    expect(parseFilter({ reason: 'tracking_plan_violation', stage: 'normalizer', since: '1h' }, FIELDS, NOW)).toEqual({
      ok: true,
      value: { reason: 'tracking_plan_violation', stage: 'normalizer', since: new Date(NOW - 3_600_000) },
    });
  });

  it('refuses unknown fields, odd codes and an empty window', () => {
    expect(parseFilter({ reasons: 'x' }, FIELDS, NOW).ok).toBe(false);
    expect(parseFilter({ reason: { $ne: 'x' } }, FIELDS, NOW).ok).toBe(false);
    expect(parseFilter({ reason: 'A B' }, FIELDS, NOW).ok).toBe(false);
    expect(parseFilter({ since: '1h', until: '2h' }, FIELDS, NOW)).toEqual({ ok: false, problem: 'since is after until' });
  });

  it('refuses a reason code no stage writes, naming the codes', () => {
    const parsed = parseFilter({ reason: 'bogus' }, FIELDS, NOW);
    expect(parsed).toEqual({
      ok: false,
      problem: expect.stringContaining('reason must be a DLQ reason code (got "bogus"): empty_value, '),
    });
    if (!parsed.ok) for (const code of DLQ_REASONS) expect(parsed.problem).toContain(code);
    for (const code of DLQ_REASONS) expect(parseFilter({ reason: code }, FIELDS, NOW)).toEqual({ ok: true, value: { reason: code } });
  });

  it('knows every code the shared decoding and cleaning stages write (checked by the compiler)', () => {
    // Fails to compile when libs/kafka or libs/cleaning writes a code missing from DLQ_REASONS.
    const written: readonly DlqReason[] = [] as (DecodeFailure | RejectReason)[];
    expect(written).toEqual([]);
  });

  it('never lets anything but strings and dates into the filter', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...FIELDS), fc.anything()), (input) => {
        const parsed = parseFilter(input, FIELDS, NOW);
        if (!parsed.ok) return;
        for (const v of Object.values(parsed.value)) expect(typeof v === 'string' || v instanceof Date).toBe(true);
      }),
    );
  });
});

describe('parseLimit', () => {
  it('takes numbers and digit strings within bounds', () => {
    expect(parseLimit(undefined, 50, 500)).toEqual({ ok: true, value: 50 });
    expect(parseLimit('20', 50, 500)).toEqual({ ok: true, value: 20 });
    expect(parseLimit(500, 50, 500)).toEqual({ ok: true, value: 500 });
    for (const bad of [0, 501, -1, 1.5, '1e3', 'ten', null]) expect(parseLimit(bad, 50, 500).ok).toBe(false);
  });
});
