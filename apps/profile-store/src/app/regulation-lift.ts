import type { SuppressionSource } from './erasures.repository';

/** What lifting a regulation's suppression needs to know of a stored erasure record. */
export interface StoredSuppression {
  hash: string;
  /** Absent on records written before regulations existed: an erasure's. */
  sources?: SuppressionSource[];
  /** End of the erasure window, kept apart from `until` (absent on records written before lifting existed). */
  erasureUntil?: number;
}

export interface LiftPlan {
  /** Records only a regulation held: removed. */
  remove: string[];
  /** Records an erasure holds too: the erasure's window stays. */
  keep: { hash: string; sources: SuppressionSource[]; until: number }[];
}

/**
 * Lifting takes away the regulation's part only: a hash an erasure also holds stays suppressed
 * until the erasure's window ends (`fallbackUntil` when that end was not recorded: the whole
 * window again from now, never shorter than asked for). Records without a regulation are left alone.
 */
export function liftPlan(stored: readonly StoredSuppression[], fallbackUntil: number): LiftPlan {
  const plan: LiftPlan = { remove: [], keep: [] };
  for (const doc of stored) {
    const sources = doc.sources ?? ['erasure'];
    if (!sources.includes('regulation')) continue;
    const rest = sources.filter((s) => s !== 'regulation');
    if (rest.length === 0) plan.remove.push(doc.hash);
    else plan.keep.push({ hash: doc.hash, sources: rest, until: doc.erasureUntil ?? fallbackUntil });
  }
  return plan;
}
