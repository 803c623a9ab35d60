import { DEFAULT_MATCHING_CONFIG, parseMatchingConfig, RecordMatcher, type MatchingConfig } from '@cdp/record-linkage';

/**
 * The `fuzzy` section of a workspace's identity rules (issue #5 item 5): probabilistic matching
 * of identify calls that share no identifier. Everything but `enabled` and `maxBlockSize` is a
 * (partial) `MatchingConfig` of `@cdp/record-linkage`, merged over its defaults.
 */
export interface FuzzyRulesInput {
  enabled?: boolean;
  /** Profiles kept per blocking key; a key shared by more is too common to find anyone by. */
  maxBlockSize?: number;
  autoMergeThreshold?: number;
  reviewThreshold?: number;
  vetoOnDisagree?: string[];
  requireAnyOf?: string[];
  requireAgreementOn?: string[];
  fields?: Record<string, unknown>;
}

/** The effective section as GET /v1/identity-rules shows it (the field weights are left out: long, and rarely changed). */
export interface EffectiveFuzzyRules {
  enabled: boolean;
  maxBlockSize: number;
  autoMergeThreshold: number;
  reviewThreshold: number;
  vetoOnDisagree: string[];
  requireAnyOf: string[];
  requireAgreementOn: string[];
}

/** What the consumer needs per workspace: the switch, the cap, and a matcher built once. */
export interface FuzzySettings {
  enabled: boolean;
  maxBlockSize: number;
  matcher: RecordMatcher;
}

export const DEFAULT_MAX_BLOCK_SIZE = 50;
export const MAX_BLOCK_SIZE_LIMIT = 500;

/** Conservative: the lib's thresholds (auto-merge at 18 bits) and household guards. */
export const DEFAULT_FUZZY_RULES: EffectiveFuzzyRules = {
  enabled: true,
  maxBlockSize: DEFAULT_MAX_BLOCK_SIZE,
  autoMergeThreshold: DEFAULT_MATCHING_CONFIG.autoMergeThreshold,
  reviewThreshold: DEFAULT_MATCHING_CONFIG.reviewThreshold,
  vetoOnDisagree: [...DEFAULT_MATCHING_CONFIG.vetoOnDisagree],
  requireAnyOf: [...DEFAULT_MATCHING_CONFIG.requireAnyOf],
  requireAgreementOn: [...DEFAULT_MATCHING_CONFIG.requireAgreementOn],
};

const matchingPart = (input: FuzzyRulesInput): Record<string, unknown> => {
  const rest: Record<string, unknown> = { ...input };
  delete rest['enabled'];
  delete rest['maxBlockSize'];
  return rest;
};

/** Problems of a `fuzzy` section, each naming its field (`fuzzy.reviewThreshold: ...`); empty when valid. */
export function fuzzyProblems(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return ['fuzzy must be an object'];
  const section = input as Record<string, unknown>;
  const problems: string[] = [];
  if (section['enabled'] !== undefined && typeof section['enabled'] !== 'boolean') problems.push('fuzzy.enabled must be true or false');
  const cap = section['maxBlockSize'];
  if (cap !== undefined && !(typeof cap === 'number' && Number.isInteger(cap) && cap >= 1 && cap <= MAX_BLOCK_SIZE_LIMIT))
    problems.push(`fuzzy.maxBlockSize must be an integer from 1 to ${MAX_BLOCK_SIZE_LIMIT}`);
  const parsed = parseMatchingConfig(matchingPart(section as FuzzyRulesInput));
  if (!parsed.ok) problems.push(...parsed.errors.map((e) => e.replace(/^matching/, 'fuzzy')));
  return problems;
}

/** The matching configuration of a (valid) section; the defaults for anything left out. */
export function matchingConfigOf(input: FuzzyRulesInput | undefined): MatchingConfig {
  const parsed = parseMatchingConfig(matchingPart(input ?? {}));
  // Stored sections were validated on PUT; an invalid one (older version) falls back to the defaults.
  return parsed.ok ? parsed.config : DEFAULT_MATCHING_CONFIG;
}

export function effectiveFuzzy(input: FuzzyRulesInput | undefined): EffectiveFuzzyRules {
  const config = matchingConfigOf(input);
  return {
    enabled: input?.enabled ?? DEFAULT_FUZZY_RULES.enabled,
    maxBlockSize: input?.maxBlockSize ?? DEFAULT_FUZZY_RULES.maxBlockSize,
    autoMergeThreshold: config.autoMergeThreshold,
    reviewThreshold: config.reviewThreshold,
    vetoOnDisagree: [...config.vetoOnDisagree],
    requireAnyOf: [...config.requireAnyOf],
    requireAgreementOn: [...config.requireAgreementOn],
  };
}

export function fuzzySettings(input: FuzzyRulesInput | undefined): FuzzySettings {
  const effective = effectiveFuzzy(input);
  return { enabled: effective.enabled, maxBlockSize: effective.maxBlockSize, matcher: new RecordMatcher(matchingConfigOf(input)) };
}
