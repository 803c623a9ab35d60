import fc from 'fast-check';
import { DAY_MS, dayOf, lastDays, sizeHistory, type DayCounts } from './size-history';

describe('size history from day counters', () => {
  const T = Date.UTC(2026, 10, 29, 15);

  it('lists the last days up to today, oldest first, in UTC', () => {
    expect(lastDays(T, 3)).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
    // None before the segment existed; today even when its clock says it was made tomorrow.
    expect(lastDays(T, 3, T - DAY_MS)).toEqual(['2026-11-28', '2026-11-29']);
    expect(lastDays(T, 3, T - 10 * DAY_MS)).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
    expect(lastDays(T, 3, T + DAY_MS)).toEqual(['2026-11-29']);
    expect(dayOf(Date.UTC(2026, 0, 1) - 1)).toBe('2025-12-31');
  });

  it('gives the members at the end of each day, whatever the transitions were', () => {
    // A random sequence of transitions of distinct profiles (each enters, maybe exits later) over 10 days:
    // the counters' history equals the count replayed day by day.
    fc.assert(
      fc.property(
        fc.array(
          fc
            .record({ enter: fc.integer({ min: 0, max: 11 }), stay: fc.option(fc.integer({ min: 0, max: 11 }), { nil: undefined }) })
            // Transitions are dated by evaluation time: at most tomorrow (a clock a little ahead), never later.
            .map(({ enter, stay }) => ({ enter, stay: stay === undefined ? undefined : Math.min(stay, 11 - enter) })),
          {
            maxLength: 30,
          },
        ),
        (people) => {
          const start = T - 10 * DAY_MS;
          const counts = new Map<string, DayCounts>();
          const total = { entered: 0, exited: 0 };
          const bump = (t: number, field: 'entered' | 'exited') => {
            const day = dayOf(t);
            const c = counts.get(day) ?? { entered: 0, exited: 0 };
            c[field]++;
            counts.set(day, c);
            total[field]++;
          };
          for (const p of people) {
            bump(start + p.enter * DAY_MS, 'entered');
            if (p.stay !== undefined) bump(start + (p.enter + p.stay) * DAY_MS, 'exited');
          }
          const tomorrow = counts.get(dayOf(T + DAY_MS)) ?? { entered: 0, exited: 0 };
          const history = sizeHistory(lastDays(T, 5), counts, total, tomorrow);
          for (const h of history) {
            const end = Date.parse(`${h.day}T00:00:00.000Z`) + DAY_MS;
            const expected = people.filter((p) => {
              const enteredAt = start + p.enter * DAY_MS;
              return enteredAt < end && (p.stay === undefined || start + (p.enter + p.stay) * DAY_MS >= end);
            }).length;
            expect(h.members).toBe(expected);
            expect(h.entered).toBe(counts.get(h.day)?.entered ?? 0);
          }
        },
      ),
    );
  });
});
