import { cleanCountry, countryCode } from './country';
import { cleanDate } from './date';
import { cleanEmail } from './email';
import { anonymizeIp } from './ip';
import { AMOUNT_KEYS, cleanAmount, cleanCurrency } from './money';
import { cleanName } from './name';
import { cleanPhone, DEFAULT_REGION, phoneRegion } from './phone';
import type { JsonObject, JsonValue } from './safe-json';
import { canonicalTraitKeys, reservedTraitPath } from './trait-aliases';
import { enrichFromUserAgent } from './user-agent';

/** A workspace's cleaning settings (normalizer_settings). */
export interface CleaningOptions {
  /** ISO 3166-1 alpha-2 region for phone numbers without a country prefix [US]. */
  defaultRegion?: string;
  /** Zero the last IPv4 octet / last 80 IPv6 bits of context.ip [false]. */
  anonymizeIp?: boolean;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const NAME_TRAITS = ['firstName', 'lastName', 'name'] as const;

/**
 * The traits without a blank email or phone, under any spelling (an empty form field is no value:
 * neither an identifier nor an invalid one). Before the keys are made canonical, so a blank
 * `email` does not hide an `E_mail` beside it.
 */
function withoutBlankContacts(traits: JsonObject): JsonObject {
  const blank = (key: string, value: JsonValue | undefined): boolean => {
    if (typeof value !== 'string' || value.trim() !== '') return false;
    const trait = reservedTraitPath(key)?.join('.') ?? key;
    return trait === 'email' || trait === 'phone';
  };
  return Object.keys(traits).some((k) => blank(k, traits[k]))
    ? Object.fromEntries(Object.entries(traits).filter(([k, v]) => !blank(k, v)))
    : traits;
}

/**
 * The phone region the person's own traits name (`address.country`, else `country`, as a name or
 * code): a national number from someone in France is a French one whatever the workspace's default.
 */
function ownRegion(traits: JsonObject): string | undefined {
  const address = traits['address'];
  for (const country of [isObject(address) ? address['country'] : undefined, traits['country']]) {
    const region = typeof country === 'string' ? phoneRegion(countryCode(country)) : undefined;
    if (region) return region;
  }
  return undefined;
}

/**
 * Cleans traits: reserved keys from their common spellings, then each reserved trait to its
 * standard form (a phone in the person's own country, else the workspace's region). An invalid email or phone is kept, but only as `invalidEmail` / `invalidPhone`,
 * so it is never used as an identifier; a blank one is dropped. Idempotent.
 */
export function cleanTraits(traits: JsonObject, options: CleaningOptions = {}): JsonObject {
  const out = canonicalTraitKeys(withoutBlankContacts(traits));
  // Anything but a valid address moves aside, a number or an object too: as `email` it would
  // become an identifier (`email: 123` sent by two people would merge them).
  const email = out['email'];
  if (email !== undefined && email !== null) {
    const clean = typeof email === 'string' ? cleanEmail(email) : null;
    if (clean?.valid) out['email'] = clean.value;
    else {
      delete out['email'];
      out['invalidEmail'] = clean ? clean.value : email;
    }
  }
  const phone = out['phone'];
  if (phone !== undefined && phone !== null) {
    const region = ownRegion(out) ?? options.defaultRegion ?? DEFAULT_REGION;
    const clean = typeof phone === 'string' || typeof phone === 'number' ? cleanPhone(phone, region) : null;
    if (clean?.valid) out['phone'] = clean.value;
    else {
      delete out['phone'];
      out['invalidPhone'] = clean ? clean.value : phone;
    }
  }
  for (const key of NAME_TRAITS) {
    const value = out[key];
    if (typeof value === 'string') out[key] = cleanName(value);
  }
  const birthday = out['birthday'];
  if (typeof birthday === 'string' || typeof birthday === 'number') out['birthday'] = cleanDate(birthday);
  if (typeof out['country'] === 'string') out['country'] = cleanCountry(out['country']);
  const address = out['address'];
  if (isObject(address)) {
    const cleaned: JsonObject = { ...address };
    if (typeof cleaned['country'] === 'string') cleaned['country'] = cleanCountry(cleaned['country']);
    for (const k of ['street', 'city', 'state', 'postalCode'] as const) {
      const v = cleaned[k];
      if (typeof v === 'string') cleaned[k] = cleanName(v);
    }
    out['address'] = cleaned;
  }
  return out;
}

/** Currency codes upper-cased to ISO 4217 and amounts as numbers, at the top and in `products`. */
function cleanMoney(object: JsonObject): JsonObject {
  const out: JsonObject = { ...object };
  if (typeof out['currency'] === 'string') out['currency'] = cleanCurrency(out['currency']);
  for (const key of AMOUNT_KEYS) if (Object.hasOwn(out, key)) out[key] = cleanAmount(out[key]) as JsonValue;
  return out;
}

/** Cleans e-commerce properties (Segment's spec): money at the top level and in each product. */
export function cleanProperties(properties: JsonObject): JsonObject {
  const out = cleanMoney(properties);
  const products = out['products'];
  if (Array.isArray(products)) out['products'] = products.map((p) => (isObject(p) ? cleanMoney(p) : p));
  return out;
}

/** Device/os/browser and bot flag from the user agent; the IP anonymized when the workspace asks. */
export function cleanContext(context: JsonObject, options: CleaningOptions = {}): JsonObject {
  const out = enrichFromUserAgent(context);
  if (options.anonymizeIp && Object.hasOwn(out, 'ip')) {
    const ip = out['ip'];
    const anonymized = typeof ip === 'string' ? anonymizeIp(ip) : undefined;
    if (anonymized === undefined) delete out['ip'];
    else out['ip'] = anonymized;
  }
  return out;
}
