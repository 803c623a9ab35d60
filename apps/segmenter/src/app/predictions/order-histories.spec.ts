import { historyOf, orderRevenue, readsPredictions } from './order-histories';

describe('order histories from stored events', () => {
  it('take revenue, else total, else 0, and keep only orders', () => {
    expect(orderRevenue({ revenue: 12.5, total: 99 })).toBe(12.5);
    expect(orderRevenue({ total: 99 })).toBe(99);
    expect(orderRevenue({ revenue: '12' })).toBe(0);
    const h = historyOf('p1', { first_seen: '2025-01-01T00:00:00.000Z' }, [
      { name: 'Order Completed', timestamp: 1000, properties: { total: 5 } },
      { name: 'Product Viewed', timestamp: 2000, properties: {} },
    ]);
    expect(h).toEqual({ profileId: 'p1', firstSeen: Date.UTC(2025, 0, 1), orders: [{ at: 1000, revenue: 5 }] });
    expect(historyOf('p2', { first_seen: 'not a date' }, []).firstSeen).toBeNull();
  });

  it('tell which definitions read a prediction', () => {
    expect(readsPredictions(new Set(['country', 'predicted_churn_risk']))).toBe(true);
    expect(readsPredictions(new Set(['country']))).toBe(false);
  });
});
