import type { MatchScore, PreparedRecord, RecordMatcher } from '@cdp/record-linkage';
import type { MergeScore } from './identity-profiles.repository';

/**
 * The decision glue between the identity graph and `@cdp/record-linkage` (pure, so it is tested
 * with fast-check): which blocks are usable, which candidates to score, and what the best one means.
 */

/** A blocking key's document: the profiles that had the key, up to the cap plus one (the one more says "too common"). */
export interface Block {
  key: string;
  profileIds: string[];
}

/** Profiles found under the keys, from blocks within the cap (a larger block is too common to tell anyone apart). */
export function candidateIds(blocks: readonly Block[], maxBlockSize: number): string[] {
  const ids = new Set<string>();
  for (const b of blocks) if (b.profileIds.length <= maxBlockSize) for (const id of b.profileIds) ids.add(id);
  return [...ids].sort();
}

/**
 * The keys `profileId` should be added to: those it is not under yet, whose block has room. A block
 * is filled up to cap + 1, so that from then on it is known to be too common and no longer grows.
 */
export function keysToAdd(keys: readonly string[], blocks: readonly Block[], profileId: string, maxBlockSize: number): string[] {
  const byKey = new Map(blocks.map((b) => [b.key, b.profileIds]));
  return [...new Set(keys)].filter((k) => {
    const ids = byKey.get(k) ?? [];
    return !ids.includes(profileId) && ids.length <= maxBlockSize;
  });
}

/** A stored linkage record and the canonical profile its profile belongs to now (undefined: not stored). */
export interface LinkageCandidate {
  profileId: string;
  canonical: string | undefined;
  record: PreparedRecord;
}

export type FuzzyOutcome =
  | { kind: 'none' }
  | { kind: 'merge' | 'review'; candidateProfileId: string; score: MergeScore; decidedBy: MatchScore['decision'] };

/**
 * What the best candidate outside the event's own profile means: an auto-merge, a review, or
 * nothing. Candidates are compared under their canonical profile (one per profile: its best
 * scoring record), so a profile absorbed since it was stored is not compared with itself.
 */
export function decideFuzzy(
  matcher: RecordMatcher,
  record: PreparedRecord,
  ownProfileId: string,
  candidates: readonly LinkageCandidate[],
): FuzzyOutcome {
  const others = candidates.filter(
    (c): c is LinkageCandidate & { canonical: string } => c.canonical !== undefined && c.canonical !== ownProfileId,
  );
  const [best] = matcher.rank(
    record,
    others.map((c) => ({ id: c.profileId, record: c.record, canonical: c.canonical })),
  );
  if (!best || best.decision === 'none') return { kind: 'none' };
  return { kind: best.decision, candidateProfileId: best.candidate.canonical, score: toMergeScore(best), decidedBy: best.decision };
}

export const toMergeScore = (s: MatchScore): MergeScore => ({
  total: s.score,
  fields: s.contributions.map((c) => ({ field: c.field, level: c.level, weight: c.weight })),
});

/** A pair of profiles in a stable order, so the same two are queued for review once whichever event finds them. */
export const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
