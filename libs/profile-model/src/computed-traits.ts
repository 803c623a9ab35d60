import { parseJsonObject } from './json';
import type { Profile } from './types';

/** The event whose revenue is summed, as in Segment's e-commerce spec. */
export const ORDER_COMPLETED = 'Order Completed';
const MICROS = 1_000_000;

/** The built-in computed traits every profile has. */
export interface BuiltInComputedTraits {
  first_seen: string | null;
  last_seen: string | null;
  event_count: number;
  revenue: number;
}

/**
 * Revenue of an Order Completed event in millionths: `properties.revenue`, else `total`, when a
 * finite number; 0 for anything else. Integers keep sums exact in any order.
 */
export function orderRevenueMicros(event: { type: string; event: string | null; properties?: string | null }): number {
  if (event.type !== 'track' || event.event !== ORDER_COMPLETED) return 0;
  const props = parseJsonObject(event.properties);
  const amount = typeof props['revenue'] === 'number' ? props['revenue'] : props['total'];
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return 0;
  const micros = Math.round(amount * MICROS);
  return Number.isSafeInteger(micros) ? micros : 0;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The built-in computed traits of a profile (derived from its stats, so merges and redeliveries keep them right). */
export function computedTraits(p: Profile): BuiltInComputedTraits {
  return {
    first_seen: iso(p.stats.firstSeen),
    last_seen: iso(p.stats.lastSeen),
    event_count: p.stats.eventCount,
    revenue: p.stats.revenueMicros / MICROS,
  };
}
