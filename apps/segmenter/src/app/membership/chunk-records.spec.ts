import { MAX_OCCURRENCES } from '../history/history-limits';
import type { HistoryEvent } from '../history/segment-events.repository';
import { addEvent } from './chunk-records';

const event = (name: string, i: number): HistoryEvent => ({ name, messageId: `${name}-${i}`, timestamp: i, properties: {} });

describe('addEvent', () => {
  it('adds an event once, and keeps the newest MAX_OCCURRENCES of its name as the store does', () => {
    const events = [event('Other', 0), ...Array.from({ length: MAX_OCCURRENCES }, (_, i) => event('Order', i))];
    addEvent(events, event('Order', 5));
    expect(events).toHaveLength(MAX_OCCURRENCES + 1);
    addEvent(events, event('Order', MAX_OCCURRENCES));
    const orders = events.filter((e) => e.name === 'Order');
    expect([orders.length, orders[0]?.messageId, orders.at(-1)?.messageId]).toEqual([
      MAX_OCCURRENCES,
      'Order-1',
      `Order-${MAX_OCCURRENCES}`,
    ]);
    expect(events.filter((e) => e.name === 'Other')).toHaveLength(1);
  });
});
