import { canonicalFirstName } from './nicknames';
import { soundex } from './phonetic';
import type { PersonRecord, PreparedRecord } from './record';

// Letters NFD does not decompose into a base letter plus a combining mark.
const SPECIAL: Record<string, string> = { ß: 'ss', ø: 'o', æ: 'ae', œ: 'oe', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };

/** Lower-case, accents stripped (NFD), apostrophes dropped, other punctuation a space, spaces collapsed. */
export function normalizeText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[ßøæœłđðþı]/g, (c) => SPECIAL[c] ?? c)
    .replace(/['’`´]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'dr', 'prof', 'herr', 'frau', 'mme', 'mlle', 'sr', 'sra']);

/** A normalized name without titles (`Dr. Jane` → `jane`); undefined when nothing is left. */
export function normalizeName(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const tokens = normalizeText(s)
    .split(' ')
    .filter((t) => t && !TITLES.has(t));
  return tokens.length ? tokens.join(' ') : undefined;
}

const STREET_WORDS: Record<string, string> = {
  st: 'street',
  str: 'strasse',
  rd: 'road',
  ave: 'avenue',
  av: 'avenue',
  avenida: 'avenue',
  avda: 'avenue',
  bd: 'boulevard',
  c: 'calle',
  blvd: 'boulevard',
  dr: 'drive',
  ln: 'lane',
  ct: 'court',
  pl: 'place',
  sq: 'square',
  hwy: 'highway',
  apt: 'apartment',
  ste: 'suite',
  n: 'north',
  s: 'south',
  e: 'east',
  w: 'west',
};

/** Street tokens with common abbreviations expanded; `Hauptstr.` and `Hauptstraße` both give `hauptstrasse`. */
export function streetTokens(s: string): string[] {
  return normalizeText(s)
    .split(' ')
    .filter(Boolean)
    .map((t) => (Object.hasOwn(STREET_WORDS, t) ? STREET_WORDS[t] : t.length > 4 && t.endsWith('str') ? `${t}asse` : t));
}

/** Upper-case without spaces or dashes: `sw1a 1aa` → `SW1A1AA`. */
export function normalizePostalCode(s: string | undefined): string | undefined {
  const v = s?.toUpperCase().replace(/[\s-]+/g, '');
  return v && /^[A-Z0-9]{2,10}$/.test(v) ? v : undefined;
}

/**
 * The last nine digits of a phone number: the national significant number of most countries, so the E.164,
 * national (trunk 0) and punctuated forms of a number agree. Fewer than seven digits is no phone.
 */
export function normalizePhone(s: string | undefined): string | undefined {
  const digits = s?.replace(/\D/g, '');
  return digits && digits.length >= 7 ? digits.slice(-9) : undefined;
}

export function normalizeEmail(s: string | undefined): string | undefined {
  const v = s?.trim().toLowerCase();
  return v && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? v : undefined;
}

/** `YYYY-MM-DD` (or `YYYY/MM/DD`, or a longer ISO timestamp) with a plausible month and day. */
export function normalizeBirthday(s: string | undefined): PreparedRecord['birthday'] {
  const m = s ? /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})/.exec(s.trim()) : null;
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1850 || mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  return { y, m: mo, d, iso: `${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}` };
}

function text(s: string | undefined): string | undefined {
  const v = s ? normalizeText(s) : '';
  return v || undefined;
}

/** Normalizes a record once; the result is what blocking and the comparators read. */
export function prepareRecord(r: PersonRecord): PreparedRecord {
  const first = normalizeName(r.name?.first);
  const last = normalizeName(r.name?.last);
  const tokens = r.address?.street ? streetTokens(r.address.street) : [];
  const out: PreparedRecord = {
    first,
    firstCanonical: first ? canonicalFirstName(first.split(' ')[0]) : undefined,
    last,
    lastPhonetic: last ? soundex(last) : undefined,
    birthday: normalizeBirthday(r.birthday),
    street: tokens.length ? tokens.join(' ') : undefined,
    streetTokens: tokens.length ? tokens : undefined,
    city: text(r.address?.city),
    postalCode: normalizePostalCode(r.address?.postalCode),
    country: text(r.address?.country),
    phone: normalizePhone(r.phone),
    email: normalizeEmail(r.email),
  };
  return out;
}

/**
 * Whether probabilistic matching applies to a record by default (issue #5): it carries a name (first or last)
 * and at least one of birthday, address (street or postal code) or phone.
 */
export function isEligible(r: PreparedRecord): boolean {
  return !!(r.first || r.last) && !!(r.birthday || r.street || r.postalCode || r.phone);
}
