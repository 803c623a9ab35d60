import { DAY_MS, type CustomerHistory, type Order } from './history';
import { normal, seededRandom } from './random';

export interface SyntheticOptions {
  customers?: number;
  /** Days of history before `end`. */
  days?: number;
  /** Epoch milliseconds of the end of the history (the "now" of the data). */
  end?: number;
  seed?: number;
  /** Mean life in days of a customer buying once a month (scaled by the square root of the rate). */
  lifeDays?: number;
  /** Standard deviation of the log order rate across customers. */
  rateSpread?: number;
}

export interface SyntheticCustomer {
  history: CustomerHistory;
  /** Epoch milliseconds the customer stopped buying (may lie after `end`). */
  churnAt: number;
  /** Orders per day while fully active. */
  rate: number;
}

/** Days over which a customer's order rate fades to zero before it stops for good. */
export const FADE_DAYS = 90;

/**
 * Customer histories with a known churn process, for tests and the README figures:
 * - each customer joins at a uniform time and buys as a Poisson process whose rate is
 *   log-normal around one order a month;
 * - its life length is exponential with a mean that grows with the rate (frequent buyers stay);
 * - over the last FADE_DAYS of its life the rate fades linearly to zero (a falling trend
 *   announces churn), and after it no order follows;
 * - order values are log-normal around a per-customer mean.
 * So recency alone is informative, but frequency and trend carry more: a long gap means little
 * for a rare buyer and a lot for a frequent one.
 */
export function syntheticCustomers(options: SyntheticOptions = {}): SyntheticCustomer[] {
  const { customers = 2000, days = 730, end = Date.UTC(2026, 0, 1), seed = 42, lifeDays = 700, rateSpread = 1 } = options;
  const random = seededRandom(seed);
  const start = end - days * DAY_MS;
  const out: SyntheticCustomer[] = [];
  for (let c = 0; c < customers; c++) {
    const joinAt = start + random() * (days - 30) * DAY_MS;
    const rate = Math.exp(Math.log(1 / 30) + rateSpread * normal(random));
    const meanLifeDays = lifeDays * Math.sqrt(rate * 30);
    const churnAt = joinAt + -Math.log(1 - random()) * meanLifeDays * DAY_MS;
    const fadeFrom = churnAt - FADE_DAYS * DAY_MS;
    const basket = Math.exp(Math.log(40) + 0.6 * normal(random));
    const orders: Order[] = [];
    // Thinning: candidate orders at the full rate, each kept with the current share of it.
    let t = joinAt;
    for (;;) {
      t += (-Math.log(1 - random()) / rate) * DAY_MS;
      if (t >= end || t >= churnAt) break;
      const share = t < fadeFrom ? 1 : (churnAt - t) / (FADE_DAYS * DAY_MS);
      if (random() < share) orders.push({ at: Math.round(t), revenue: Math.round(basket * Math.exp(0.3 * normal(random)) * 100) / 100 });
    }
    out.push({ history: { profileId: `p${String(c).padStart(6, '0')}`, firstSeen: Math.round(joinAt), orders }, churnAt, rate });
  }
  return out;
}
