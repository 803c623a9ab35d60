import { IdentifierTypes } from '@cdp/contracts';

/**
 * A workspace's identity-resolution rules (flat matching, brief section 4). Plain data, so it
 * can be stored per workspace and served by the API as is.
 */
export interface IdentityRules {
  /** Identifier types from highest to lowest priority; unlisted types rank after (see rankOf). */
  priority: string[];
  /** Most values of one type a profile may hold; types not listed use defaultLimit. */
  limits: Record<string, number>;
  defaultLimit: number;
  /** Most identifiers of all types together one profile may hold (Segment's "identity mappings"). */
  maxIdentifiers: number;
  /** Most profiles that may be merged into one, counting the ones they absorbed (Segment's "identity merges"). */
  maxMerges: number;
  /** Values never used as identifiers. */
  blocked: {
    /** Compared after trimming, case-insensitively. */
    values: string[];
    /** Regular expressions (source text) tested against the trimmed value. */
    patterns: string[];
  };
}

export const DEFAULT_IDENTITY_RULES: IdentityRules = {
  priority: [
    IdentifierTypes.userId,
    IdentifierTypes.email,
    IdentifierTypes.phone,
    IdentifierTypes.advertisingId,
    IdentifierTypes.deviceId,
    IdentifierTypes.anonymousId,
  ],
  limits: { [IdentifierTypes.userId]: 1 },
  defaultLimit: 5,
  // Segment's per-profile guardrails: a bad shared key stops growing a profile long before it swallows thousands.
  maxIdentifiers: 1000,
  maxMerges: 100,
  blocked: { values: ['-1', 'null', 'anonymous', 'undefined', '[object Object]'], patterns: ['^[0-]*$'] },
};

export const limitOf = (rules: IdentityRules, type: string): number => rules.limits[type] ?? rules.defaultLimit;

/**
 * Position of a type in the priority order (lower is stronger). Unlisted types rank after the
 * listed ones: the built-in ones in their default order, then custom ones (by name, in decide).
 * By name alone, `priority: []` or `["email"]` ranked anonymous_id above user_id, so a shared
 * device's second user id was the one demoted and that person's events went to the first.
 */
export const rankOf = (rules: IdentityRules, type: string): number => {
  const i = rules.priority.indexOf(type);
  if (i !== -1) return i;
  const builtIn = DEFAULT_IDENTITY_RULES.priority.indexOf(type);
  return rules.priority.length + (builtIn === -1 ? DEFAULT_IDENTITY_RULES.priority.length : builtIn);
};

/** Characters of an identifier that blocked-value patterns test. */
export const BLOCKED_PATTERN_INPUT = 512;

/** A compiled blocked-value test; patterns are compiled once per rules object. */
export function blockedValueTest(rules: IdentityRules): (value: string) => boolean {
  const exact = new Set(rules.blocked.values.map((v) => v.trim().toLowerCase()));
  const patterns = rules.blocked.patterns.map((p) => new RegExp(p));
  return (value) => {
    const v = value.trim();
    // Patterns see a bounded prefix: their backtracking bound (@cdp/safe-regex) is per input length.
    const head = v.slice(0, BLOCKED_PATTERN_INPUT);
    return exact.has(v.toLowerCase()) || patterns.some((p) => p.test(head));
  };
}
