import { identifierKey, mergeIdFor, profileIdFor, type Identifier } from './identifier';
import { limitOf, rankOf, type IdentityRules } from './rules';

/** What the decision needs to know of a canonical (not absorbed) profile. */
export interface ProfileState {
  profileId: string;
  /** Epoch millis; the oldest profile survives a merge. */
  createdAt: number;
  /** How many identifiers of each type the profile holds. */
  counts: Record<string, number>;
  /** How many profiles were merged into it, with the ones they had absorbed (0 when absent). */
  merges?: number;
}

/** An identifier of the event that is already known, and the canonical profile it belongs to. */
export interface IdentifierMatch {
  identifier: Identifier;
  profileId: string;
}

export interface ResolutionInput {
  workspaceId: string;
  /** The event's identifiers (extractIdentifiers). */
  identifiers: Identifier[];
  /** The known ones among them, each with its canonical profile. */
  matches: IdentifierMatch[];
  /** Every canonical profile named by a match. */
  profiles: ProfileState[];
  rules: IdentityRules;
}

export interface MergeStep {
  mergeId: string;
  fromProfileId: string;
  intoProfileId: string;
  /** The event's identifiers that belong to either profile: what linked them. */
  identifiers: Identifier[];
}

/** An identifier left out of a decision, and the rule keeping it would have broken (e.g. `limits.email: 1`). */
export interface Demotion {
  identifier: Identifier;
  limit: string;
}

export type Decision =
  | { action: 'none'; reason: 'no_identifiers' }
  | {
      action: 'create' | 'attach' | 'merge';
      /** The profile the event belongs to: new, attached or surviving. */
      profileId: string;
      /** The identifiers kept after demotion, strongest first. */
      identifiers: Identifier[];
      /** The kept identifiers not known yet; they are stored pointing at profileId. */
      attach: Identifier[];
      /** Absorbed profiles, each into profileId. */
      merges: MergeStep[];
      /** Identifiers dropped to respect the limits, weakest first; neither matched nor stored. */
      demoted: Demotion[];
    };

/** Strongest first: priority rank, then type, then value, so ties break the same way everywhere. */
export const byPriority =
  (rules: IdentityRules) =>
  (a: Identifier, b: Identifier): number =>
    rankOf(rules, a.type) - rankOf(rules, b.type) || cmp(a.type, b.type) || cmp(a.value, b.value);

/** Survivor order: oldest first, ties by the smaller id. */
export const bySurvivorship = (a: ProfileState, b: ProfileState): number => a.createdAt - b.createdAt || cmp(a.profileId, b.profileId);

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Flat matching (brief section 4): the event's identifiers match no profile (create), one
 * (attach) or several (merge into the oldest). If the resulting profile would hold more
 * identifiers of a type than the rules allow, or more identifiers or merges in all, the event's
 * lowest-priority identifier is demoted and matching retried. Pure and order-independent: the
 * same facts give the same decision.
 */
export function decide(input: ResolutionInput): Decision {
  const { rules } = input;
  const profiles = new Map(input.profiles.map((p) => [p.profileId, p]));
  const matched = new Map(input.matches.map((m) => [identifierKey(m.identifier), m.profileId]));
  for (const profileId of matched.values()) {
    if (!profiles.has(profileId)) throw new Error(`decide: no state for matched profile ${profileId}`);
  }

  const kept = dedupe(input.identifiers).sort(byPriority(rules));
  if (kept.length === 0) return { action: 'none', reason: 'no_identifiers' };
  const demoted: Demotion[] = [];

  for (;;) {
    const involved = [...new Set(kept.flatMap((id) => matched.get(identifierKey(id)) ?? []))]
      .map((profileId) => profiles.get(profileId) as ProfileState)
      .sort(bySurvivorship);
    const attach = kept.filter((id) => !matched.has(identifierKey(id)));
    // One identifier can never break a limit (it is new on a new profile, or already counted).
    const limit = kept.length > 1 ? brokenLimit(involved, attach, rules) : null;
    if (limit !== null) {
      demoted.push({ identifier: kept.pop() as Identifier, limit });
      continue;
    }

    const survivor = involved[0];
    if (!survivor) {
      return {
        action: 'create',
        profileId: profileIdFor(input.workspaceId, kept[0] as Identifier),
        identifiers: kept,
        attach,
        merges: [],
        demoted,
      };
    }
    const linkedTo = (profileId: string): Identifier[] => kept.filter((id) => matched.get(identifierKey(id)) === profileId);
    const merges = involved.slice(1).map((from) => ({
      mergeId: mergeIdFor(input.workspaceId, from.profileId, survivor.profileId),
      fromProfileId: from.profileId,
      intoProfileId: survivor.profileId,
      identifiers: [...linkedTo(survivor.profileId), ...linkedTo(from.profileId)].sort(byPriority(rules)),
    }));
    return { action: merges.length > 0 ? 'merge' : 'attach', profileId: survivor.profileId, identifiers: kept, attach, merges, demoted };
  }
}

/** Identifier counts of the profile that would result from joining `profiles` and adding `attach`. */
export function combinedCounts(profiles: ProfileState[], attach: Identifier[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const p of profiles) for (const [type, n] of Object.entries(p.counts)) total[type] = (total[type] ?? 0) + n;
  for (const id of attach) total[id.type] = (total[id.type] ?? 0) + 1;
  return total;
}

/**
 * The limit joining `profiles` and adding `attach` breaks, named as in the rules, or null.
 * A limit is broken when the result is over it and larger than any profile already is: a
 * profile that is over a limit already (a race, or a lowered limit) may still receive events,
 * it just may not grow in that respect. The limits: identifiers per type, identifiers in all,
 * and profiles merged into one.
 */
function brokenLimit(profiles: ProfileState[], attach: Identifier[], rules: IdentityRules): string | null {
  const total = combinedCounts(profiles, attach);
  const perType = Object.entries(total).find(([type, n]) => {
    const largest = Math.max(0, ...profiles.map((p) => p.counts[type] ?? 0));
    return n > limitOf(rules, type) && n > largest;
  });
  if (perType) return `limits.${perType[0]}: ${limitOf(rules, perType[0])}`;
  const identifiers = sum(Object.values(total));
  if (identifiers > rules.maxIdentifiers && identifiers > Math.max(0, ...profiles.map((p) => sum(Object.values(p.counts)))))
    return `maxIdentifiers: ${rules.maxIdentifiers}`;
  const merges = profiles.length - 1 + sum(profiles.map(mergesOf));
  // A merge always grows the survivor's merges: no profile may take one past the limit.
  if (profiles.length > 1 && merges > rules.maxMerges) return `maxMerges: ${rules.maxMerges}`;
  return null;
}

const mergesOf = (p: ProfileState): number => p.merges ?? 0;
const sum = (ns: number[]): number => ns.reduce((a, b) => a + b, 0);

function dedupe(ids: Identifier[]): Identifier[] {
  return [...new Map(ids.map((id) => [identifierKey(id), id])).values()];
}
