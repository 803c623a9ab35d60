/** One order of a customer. */
export interface Order {
  /** Epoch milliseconds. */
  at: number;
  /** Revenue of the order (currency units); 0 when unknown. */
  revenue: number;
}

/** What the predictions read about one profile: when it was first seen and its orders. */
export interface CustomerHistory {
  profileId: string;
  /** Epoch milliseconds of the first sighting; null: take the first order. */
  firstSeen: number | null;
  orders: readonly Order[];
}

/** The behavioural summary of a customer at one moment (only what happened before it counts). */
export interface CustomerFeatures {
  /** Days since the last order. */
  recency: number;
  /** Orders so far. */
  frequency: number;
  /** Revenue so far. */
  monetary: number;
  /** Days since first seen. */
  tenure: number;
  /** Orders in the last 30 days against the 30-day rate of the 60 days before (log ratio; 0 = steady, < 0 = slowing). */
  trend: number;
}

export const DAY_MS = 86_400_000;
/** Width of the recent window of the trend feature. */
export const TREND_RECENT_DAYS = 30;
/** Width of the earlier window of the trend feature (compared per 30 days). */
export const TREND_EARLIER_DAYS = 60;

export const FEATURE_NAMES = ['recency', 'frequency', 'monetary', 'tenure', 'trend'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * The features of a customer as of `asOf`, from orders strictly before it; null when it had no
 * order by then (not a customer yet: RFM, churn and clusters describe customers).
 */
export function featuresAt(history: CustomerHistory, asOf: number): CustomerFeatures | null {
  let frequency = 0;
  let monetary = 0;
  let last = -Infinity;
  let first = Infinity;
  let recent = 0;
  let earlier = 0;
  const recentFrom = asOf - TREND_RECENT_DAYS * DAY_MS;
  const earlierFrom = recentFrom - TREND_EARLIER_DAYS * DAY_MS;
  for (const o of history.orders) {
    if (!(o.at < asOf)) continue;
    frequency++;
    monetary += Number.isFinite(o.revenue) ? o.revenue : 0;
    if (o.at > last) last = o.at;
    if (o.at < first) first = o.at;
    if (o.at >= recentFrom) recent++;
    else if (o.at >= earlierFrom) earlier++;
  }
  if (frequency === 0) return null;
  const firstSeen = history.firstSeen !== null && history.firstSeen < first ? history.firstSeen : first;
  return {
    recency: (asOf - last) / DAY_MS,
    frequency,
    monetary,
    tenure: (asOf - firstSeen) / DAY_MS,
    trend: Math.log1p(recent) - Math.log1p(earlier * (TREND_RECENT_DAYS / TREND_EARLIER_DAYS)),
  };
}

/** Whether the customer ordered in [from, to). */
export function orderedBetween(history: CustomerHistory, from: number, to: number): boolean {
  return history.orders.some((o) => o.at >= from && o.at < to);
}
