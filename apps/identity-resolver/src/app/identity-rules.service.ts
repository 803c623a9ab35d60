import { Injectable } from '@nestjs/common';
import { fuzzySettings, type FuzzySettings } from './fuzzy-rules';
import { toResolverRules, withDefaults, type EffectiveIdentityRules, type IdentityRulesInput, type ResolverRules } from './identity-rules';
import { IdentityRulesStore } from './identity-rules.store';

/** How long a workspace's rules are reused before they are read again: a change reaches every instance this soon. */
export const RULES_CACHE_MS = 3000;

interface Cached {
  at: number;
  rules: Promise<{ effective: EffectiveIdentityRules; resolver: ResolverRules; fuzzy: FuzzySettings }>;
}

/**
 * A workspace's identity rules: stored ones merged with the defaults, cached in process for a
 * few seconds so the consumer does not read MongoDB per event. A PUT on this instance applies
 * at once; other instances pick it up within RULES_CACHE_MS.
 */
@Injectable()
export class IdentityRulesService {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly store: IdentityRulesStore) {}

  /** The rules the resolver applies to a new event of the workspace. */
  async forWorkspace(workspaceId: string): Promise<ResolverRules> {
    return (await this.load(workspaceId)).resolver;
  }

  /** Fuzzy matching of the workspace: whether it is on, and its matcher (built once per read of the rules). */
  async fuzzy(workspaceId: string): Promise<FuzzySettings> {
    return (await this.load(workspaceId)).fuzzy;
  }

  /** The effective rules as the API shows them (windows included). */
  async effective(workspaceId: string): Promise<EffectiveIdentityRules> {
    return (await this.load(workspaceId)).effective;
  }

  async replace(workspaceId: string, input: IdentityRulesInput): Promise<EffectiveIdentityRules> {
    await this.store.put(workspaceId, input);
    this.cache.delete(workspaceId);
    return this.effective(workspaceId);
  }

  private load(workspaceId: string): Cached['rules'] {
    const now = Date.now();
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < RULES_CACHE_MS) return hit.rules;
    // One read per workspace at a time: concurrent callers share the promise.
    const rules = this.store.get(workspaceId).then((input) => {
      const effective = withDefaults(input);
      return { effective, resolver: toResolverRules(effective), fuzzy: fuzzySettings(input?.fuzzy) };
    });
    this.cache.set(workspaceId, { at: now, rules });
    // A failed read is not cached: the next caller tries again.
    rules.catch(() => {
      if (this.cache.get(workspaceId)?.rules === rules) this.cache.delete(workspaceId);
    });
    return rules;
  }
}
