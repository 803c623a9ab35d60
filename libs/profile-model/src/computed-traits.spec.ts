import fc from 'fast-check';
import { applyEvent } from './apply-event';
import { computedTraits, orderRevenueMicros } from './computed-traits';
import { emptyProfile } from './profile';

describe('built-in computed traits', () => {
  const order = (properties: string) => ({ type: 'track', event: 'Order Completed', properties });
  it('takes revenue, else total, of Order Completed only', () => {
    expect(orderRevenueMicros(order('{"revenue":12.5,"total":99}'))).toBe(12_500_000);
    expect(orderRevenueMicros(order('{"total":99}'))).toBe(99_000_000);
    expect(orderRevenueMicros(order('{"revenue":"12"}'))).toBe(0);
    expect(orderRevenueMicros({ type: 'track', event: 'Order Refunded', properties: '{"revenue":5}' })).toBe(0);
    expect(orderRevenueMicros({ type: 'identify', event: null, properties: '{"revenue":5}' })).toBe(0);
  });
  it('sums revenue exactly whatever the order of events', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 10 }), (amounts) => {
        const events = amounts.map((revenue, i) => ({
          messageId: `m${i}`,
          type: 'track' as const,
          event: 'Order Completed',
          timestamp: i,
          sourceId: null,
          identifiers: [],
          traits: '{}',
          properties: JSON.stringify({ revenue }),
        }));
        const forward = events.reduce((p, e) => applyEvent(p, e).profile, emptyProfile('ws', 'p', 0));
        const backward = [...events].reverse().reduce((p, e) => applyEvent(p, e).profile, emptyProfile('ws', 'p', 0));
        expect(computedTraits(backward)).toEqual(computedTraits(forward));
        const expected = amounts.reduce((sum, a) => sum + Math.round(a * 1e6), 0) / 1e6;
        expect(computedTraits(forward).revenue).toBe(expected);
        expect(computedTraits(forward).event_count).toBe(amounts.length);
      }),
    );
  });
  it('reports first and last seen as ISO times', () => {
    const p = {
      ...emptyProfile('ws', 'p', 0),
      stats: { firstSeen: 0, lastSeen: 1_000, eventCount: 2, eventCounts: {}, revenueMicros: 1_500_000 },
    };
    expect(computedTraits(p)).toEqual({
      first_seen: '1970-01-01T00:00:00.000Z',
      last_seen: '1970-01-01T00:00:01.000Z',
      event_count: 2,
      revenue: 1.5,
    });
    expect(computedTraits(emptyProfile('ws', 'p', 0))).toMatchObject({ first_seen: null, last_seen: null, revenue: 0 });
  });
});
