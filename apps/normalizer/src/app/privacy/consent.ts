/**
 * Consent per workspace policy: which consent categories an event needs, and whether the event's
 * `context.consent.categoryPreferences` (Segment's consent object) grants them all.
 */

/** `event` is a track event name, or `*` for every event of any type. */
export interface ConsentRule {
  event: string;
  categories: string[];
}

export const ALL_EVENTS = '*';
export const MAX_CONSENT_RULES = 200;
// No dots: the cleaned context has them replaced (MongoDB-safe keys), so such a category could never match.
const CATEGORY = /^[A-Za-z0-9_ :-]{1,64}$/;

/** The categories an event needs under the rules (sorted, distinct); none means no consent is needed. */
export function requiredCategories(rules: readonly ConsentRule[], event: { type: string; event: string | null }): string[] {
  const needed = new Set<string>();
  for (const rule of rules) {
    if (rule.event === ALL_EVENTS || (event.type === 'track' && rule.event === event.event)) for (const c of rule.categories) needed.add(c);
  }
  return [...needed].sort();
}

/** The categories the event's sender consented to: those set to `true` (anything else is no consent). */
export function grantedCategories(context: unknown): Set<string> {
  const prefs = (context as { consent?: { categoryPreferences?: unknown } } | null)?.consent?.categoryPreferences;
  if (typeof prefs !== 'object' || prefs === null || Array.isArray(prefs)) return new Set();
  return new Set(Object.entries(prefs).flatMap(([category, granted]) => (granted === true ? [category] : [])));
}

/** Whether the event may be processed: every required category granted. An event without preferences grants none. */
export function hasConsent(rules: readonly ConsentRule[], event: { type: string; event: string | null }, context: unknown): boolean {
  const needed = requiredCategories(rules, event);
  if (needed.length === 0) return true;
  const granted = grantedCategories(context);
  return needed.every((c) => granted.has(c));
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `[{event, categories}]` from an API body, or the first problem. */
export function parseConsentRules(input: unknown): Parsed<ConsentRule[]> {
  if (!Array.isArray(input)) return { ok: false, problem: 'consent must be a list of {"event": "<name>|*", "categories": [...]}' };
  if (input.length > MAX_CONSENT_RULES) return { ok: false, problem: `consent has more than ${MAX_CONSENT_RULES} rules` };
  const rules: ConsentRule[] = [];
  for (const [i, rule] of input.entries()) {
    const r = rule as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return { ok: false, problem: `consent[${i}] must be an object` };
    const unknown = Object.keys(r).find((k) => k !== 'event' && k !== 'categories');
    if (unknown !== undefined) return { ok: false, problem: `consent[${i}] has an unknown field ${JSON.stringify(unknown)}` };
    const event = r['event'];
    if (typeof event !== 'string' || event.trim() === '' || event.length > 200)
      return { ok: false, problem: `consent[${i}].event must be an event name or "*"` };
    const categories = r['categories'];
    if (
      !Array.isArray(categories) ||
      categories.length === 0 ||
      categories.length > 20 ||
      !categories.every((c) => typeof c === 'string' && CATEGORY.test(c))
    )
      return { ok: false, problem: `consent[${i}].categories must be 1 to 20 category names (letters, digits, _ : - and spaces)` };
    rules.push({ event, categories: [...new Set(categories as string[])] });
  }
  return { ok: true, value: rules };
}
