import { parseJsonObject } from './json';
import type { JsonObject } from './types';

/** The trait consent is kept in (the segmenter's `consent('<category>')` reads it). */
export const CONSENT_TRAIT = 'consent';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The `consent` trait value an event's context carries: Segment's consent object
 * (`context.consent.categoryPreferences`) as `{categoryPreferences: {...}}`, or undefined when the
 * context has no such object. Pure; context text that is not a JSON object carries none.
 */
export function consentFromContext(context: string | null | undefined): JsonObject | undefined {
  const consent = parseJsonObject(context)[CONSENT_TRAIT];
  if (!isObject(consent)) return undefined;
  const prefs = consent['categoryPreferences'];
  return isObject(prefs) ? { categoryPreferences: prefs } : undefined;
}
