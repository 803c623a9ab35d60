import type { CustomerHistory, Order } from '@cdp/predictions';
import type { ProfileEvent } from '@cdp/segment-language';

/** The event whose occurrences are a customer's orders (Segment's e-commerce spec). */
export const ORDER_EVENT = 'Order Completed';

/** Revenue of an order: `revenue`, else `total`, when a finite number; else 0 (the order still counts). */
export function orderRevenue(properties: Record<string, unknown>): number {
  const amount = typeof properties['revenue'] === 'number' ? properties['revenue'] : properties['total'];
  return typeof amount === 'number' && Number.isFinite(amount) ? amount : 0;
}

/** A stored ISO time (e.g. the computed trait first_seen) as epoch ms, or null. */
function epoch(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * A profile's order history from what the segmenter stores: its Order Completed occurrences
 * (messageId-deduplicated on write) and, for tenure, a first_seen trait when the snapshot has one.
 */
export function historyOf(profileId: string, traits: Record<string, unknown>, events: readonly ProfileEvent[]): CustomerHistory {
  const orders: Order[] = events
    .filter((e) => e.name === ORDER_EVENT && Number.isFinite(e.timestamp))
    .map((e) => ({ at: e.timestamp, revenue: orderRevenue(e.properties) }));
  return { profileId, firstSeen: epoch(traits['first_seen']), orders };
}

/** The traits a prediction adds to a profile, under the names segments read. */
export interface PredictedTraits {
  predicted_rfm: string;
  predicted_rfm_tier: string;
  predicted_churn_risk: number | null;
  predicted_cluster: number | null;
}

export const PREDICTED_TRAIT_NAMES: readonly (keyof PredictedTraits)[] = [
  'predicted_rfm',
  'predicted_rfm_tier',
  'predicted_churn_risk',
  'predicted_cluster',
];

/** Whether a definition reading these trait keys depends on a prediction. */
export const readsPredictions = (traits: ReadonlySet<string>): boolean => PREDICTED_TRAIT_NAMES.some((n) => traits.has(n));
