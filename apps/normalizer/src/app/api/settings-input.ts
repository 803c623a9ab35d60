import { isSupportedCountry } from 'libphonenumber-js';
import { parseConsentRules, type ConsentRule } from '../privacy/consent';
import { parsePiiRules, type PiiRule } from '../privacy/pii';

/** The settings a workspace can change over the API; every field has a default. */
export interface SettingsInput {
  defaultRegion: string;
  anonymizeIp: boolean;
  /** Consent categories events need; an event without them is dropped and counted. */
  consent: ConsentRule[];
  /** Fields hashed, encrypted or dropped before the event is produced. */
  pii: PiiRule[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const FIELDS = new Set(['defaultRegion', 'anonymizeIp', 'consent', 'pii']);

/**
 * A PUT body as the complete settings (omitted fields take the defaults), or the first problem.
 * The region must be one libphonenumber-js knows, or phones would silently stop being read;
 * `encrypt` rules need the normalizer's encryption key (`canEncrypt`).
 */
export function parseSettings(body: unknown, defaults: SettingsInput, canEncrypt = false): Parsed<SettingsInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problem: 'the body must be a JSON object' };
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !FIELDS.has(k));
  if (unknown !== undefined) return { ok: false, problem: `unknown setting ${JSON.stringify(unknown)} (known: ${[...FIELDS].join(', ')})` };
  const value = { ...defaults };
  if (b['defaultRegion'] !== undefined) {
    const region = b['defaultRegion'];
    if (typeof region !== 'string' || !/^[A-Za-z]{2}$/.test(region) || !isSupportedCountry(region.toUpperCase()))
      return { ok: false, problem: 'defaultRegion must be a two-letter region code with phone numbering (e.g. US, DE)' };
    value.defaultRegion = region.toUpperCase();
  }
  if (b['anonymizeIp'] !== undefined) {
    if (typeof b['anonymizeIp'] !== 'boolean') return { ok: false, problem: 'anonymizeIp must be true or false' };
    value.anonymizeIp = b['anonymizeIp'];
  }
  if (b['consent'] !== undefined) {
    const consent = parseConsentRules(b['consent']);
    if (!consent.ok) return consent;
    value.consent = consent.value;
  }
  if (b['pii'] !== undefined) {
    const pii = parsePiiRules(b['pii']);
    if (!pii.ok) return pii;
    const encrypting = pii.value.findIndex((r) => r.action === 'encrypt');
    if (encrypting >= 0 && !canEncrypt)
      return { ok: false, problem: `pii[${encrypting}].action encrypt needs CDP_PII_ENCRYPTION_KEY to be set on the normalizer` };
    value.pii = pii.value;
  }
  return { ok: true, value };
}

/** Identifiers one `pii/hashes` request may name (a regulation takes as many). */
export const MAX_HASH_IDENTIFIERS = 1_000;

/** `{identifiers: [{type, value}]}` (1 to MAX_HASH_IDENTIFIERS, non-empty strings), or the first problem. */
export function parseIdentifierList(body: unknown): Parsed<{ type: string; value: string }[]> {
  const list =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)['identifiers'] : undefined;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_HASH_IDENTIFIERS)
    return {
      ok: false,
      problem: `the body must be {"identifiers": [{"type": "email", "value": "..."}]} with 1 to ${MAX_HASH_IDENTIFIERS} identifiers`,
    };
  const out: { type: string; value: string }[] = [];
  for (const [i, item] of list.entries()) {
    const { type, value } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof type !== 'string' || type === '' || typeof value !== 'string' || value.trim() === '' || value.length > 1_000)
      return { ok: false, problem: `identifiers[${i}] must be {"type": "<type>", "value": "<value>"} with non-empty strings` };
    out.push({ type, value });
  }
  return { ok: true, value: out };
}

/**
 * What a replacement should be told besides the settings: the PII rules and consent rules it drops.
 * A PUT replaces the whole document, so a file with only `defaultRegion` would quietly stop hashing
 * emails (new events then store them in the clear, next to the hashed ones).
 */
export function settingsWarnings(before: SettingsInput, after: SettingsInput): string[] {
  const piiKey = (r: PiiRule) => `${r.action} ${r.path}`;
  const consentKey = (r: ConsentRule) => `${r.event}: ${[...r.categories].sort().join(', ')}`;
  return [
    ...dropped(before.pii, after.pii, piiKey).map(
      (r) => `pii: "${piiKey(r)}" is gone: new events keep ${r.path} as sent (list it again to keep it)`,
    ),
    ...dropped(before.consent, after.consent, consentKey).map(
      (r) => `consent: "${consentKey(r)}" is gone: those events no longer need that consent (list it again to keep it)`,
    ),
  ];
}

/** The rules of `was` that `now` no longer has (compared by `key`). */
function dropped<T>(was: readonly T[], now: readonly T[], key: (rule: T) => string): T[] {
  const kept = new Set(now.map(key));
  return was.filter((rule) => !kept.has(key(rule)));
}
