import { historyOf, orderRevenue, readsPredictions } from './order-histories';
import { readPredictionsSettings } from './predictions.config';

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

describe('predictions settings', () => {
  it('default to a 6-hour schedule and a 30-day horizon; 0 turns the schedule off', () => {
    expect(readPredictionsSettings({})).toEqual({ intervalMs: 21_600_000, horizonDays: 30 });
    expect(readPredictionsSettings({ SEGMENTER_PREDICTIONS_INTERVAL_MS: '0' }).intervalMs).toBe(0);
  });

  it('refuse a bad value at start-up', () => {
    expect(() => readPredictionsSettings({ SEGMENTER_PREDICTIONS_INTERVAL_MS: '-5' })).toThrow(/SEGMENTER_PREDICTIONS_INTERVAL_MS/);
    expect(() => readPredictionsSettings({ SEGMENTER_PREDICTIONS_HORIZON_DAYS: 'soon' })).toThrow(/HORIZON/);
  });
});
