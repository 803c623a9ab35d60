import { jaroWinkler } from './jaro-winkler';
import { AGREE, DISAGREE, FIELDS, MISSING, PARTIAL, type LevelCode } from './levels';
import type { PreparedRecord } from './record';

/** Names this close (Jaro-Winkler) are a typo of each other rather than another name. */
const NAME_PARTIAL = 0.88;
const LAST_PARTIAL = 0.9;
/** Street words this close count as the same word (`stret`/`street`). */
const WORD_MATCH = 0.9;

export function compareFirstName(a: PreparedRecord, b: PreparedRecord): LevelCode {
  if (!a.first || !b.first) return MISSING;
  if (a.first === b.first || a.firstCanonical === b.firstCanonical) return AGREE;
  const ta = a.first.split(' ');
  const tb = b.first.split(' ');
  // An initial (`j` for `john`) or a dropped middle name (`john paul` / `john`) is weaker evidence.
  if ((ta[0].length === 1 || tb[0].length === 1) && ta[0][0] === tb[0][0]) return PARTIAL;
  if (ta[0] === tb[0] || jaroWinkler(a.first, b.first) >= NAME_PARTIAL) return PARTIAL;
  return DISAGREE;
}

export function compareLastName(a: PreparedRecord, b: PreparedRecord): LevelCode {
  if (!a.last || !b.last) return MISSING;
  if (a.last === b.last) return AGREE;
  // One half of a double name (`garcia lopez` / `garcia`) or a typo.
  const ta = a.last.split(' ');
  const tb = b.last.split(' ');
  if (ta.length !== tb.length && (ta.some((t) => t.length > 2 && tb.includes(t)) || tb.some((t) => t.length > 2 && ta.includes(t))))
    return PARTIAL;
  return jaroWinkler(a.last, b.last) >= LAST_PARTIAL ? PARTIAL : DISAGREE;
}

/** A name against a name of the other kind (swapped reading): equal, or a typo of it. */
function crossName(x: string, y: string): LevelCode {
  if (x === y) return AGREE;
  return jaroWinkler(x, y) >= LAST_PARTIAL ? PARTIAL : DISAGREE;
}

/**
 * First and last name levels, trying the swapped order (`Smith John` / `John Smith`) too. When the swapped
 * reading is better, both names count as partial: a swap is never stronger evidence than the straight reading.
 */
export function compareNames(a: PreparedRecord, b: PreparedRecord): { first: LevelCode; last: LevelCode; swapped: boolean } {
  const first = compareFirstName(a, b);
  const last = compareLastName(a, b);
  if ((first === AGREE && last === AGREE) || !a.first || !a.last || !b.first || !b.last) return { first, last, swapped: false };
  const x = crossName(a.first, b.last);
  const y = crossName(a.last, b.first);
  if (x >= PARTIAL && y >= PARTIAL && x + y > first + last) return { first: PARTIAL, last: PARTIAL, swapped: true };
  return { first, last, swapped: false };
}

function hamming1(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length && diff < 2; i++) if (a[i] !== b[i]) diff++;
  return diff === 1;
}

/** Exact, or a classic keying error: day and month swapped, one digit off, two adjacent digits swapped. */
export function compareBirthday(a: PreparedRecord, b: PreparedRecord): LevelCode {
  const x = a.birthday;
  const y = b.birthday;
  if (!x || !y) return MISSING;
  if (x.iso === y.iso) return AGREE;
  if (x.y === y.y && x.m === y.d && x.d === y.m) return PARTIAL;
  if (hamming1(x.iso, y.iso) || adjacentSwap(x.iso, y.iso)) return PARTIAL;
  return DISAGREE;
}

function adjacentSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** Postal codes: exact, or one character wrong or two swapped. Without both, the city alone is a partial. */
export function comparePostalCode(a: PreparedRecord, b: PreparedRecord): LevelCode {
  if (a.postalCode && b.postalCode) {
    if (a.postalCode === b.postalCode) return AGREE;
    return hamming1(a.postalCode, b.postalCode) || adjacentSwap(a.postalCode, b.postalCode) ? PARTIAL : DISAGREE;
  }
  if (a.city && b.city) return a.city === b.city || jaroWinkler(a.city, b.city) >= 0.93 ? PARTIAL : DISAGREE;
  return MISSING;
}

const isNumber = (t: string): boolean => /^\d+[a-z]?$/.test(t);

/**
 * Streets as token sets (abbreviations expanded on preparation): different house numbers disagree; otherwise
 * the soft Jaccard of the words (a word matches an equal or Jaro-Winkler-close one) decides.
 */
export function compareStreet(a: PreparedRecord, b: PreparedRecord): LevelCode {
  if (!a.street || !b.street) return MISSING;
  if (a.street === b.street) return AGREE;
  // Greedy fuzzy matching depends on the order of the sides; a fixed order keeps the comparator symmetric.
  const [ta, tb] = a.street < b.street ? [a.streetTokens ?? [], b.streetTokens ?? []] : [b.streetTokens ?? [], a.streetTokens ?? []];
  const na = ta.filter(isNumber);
  const nb = tb.filter(isNumber);
  if (na.length && nb.length && !na.some((n) => nb.includes(n))) return DISAGREE;
  const used = new Uint8Array(tb.length);
  let matched = 0;
  for (const t of ta) {
    for (let j = 0; j < tb.length; j++) {
      if (used[j]) continue;
      const u = tb[j];
      if (t === u || (!isNumber(t) && !isNumber(u) && t.length > 3 && u.length > 3 && jaroWinkler(t, u) >= WORD_MATCH)) {
        used[j] = 1;
        matched++;
        break;
      }
    }
  }
  const sim = matched / (ta.length + tb.length - matched);
  if (sim >= 0.99) return AGREE;
  return sim >= 0.6 ? PARTIAL : DISAGREE;
}

export function comparePhone(a: PreparedRecord, b: PreparedRecord): LevelCode {
  if (!a.phone || !b.phone) return MISSING;
  return a.phone === b.phone ? AGREE : DISAGREE;
}

/** Emails: exact; the same mailbox name at another domain is a partial. */
export function compareEmail(a: PreparedRecord, b: PreparedRecord): LevelCode {
  if (!a.email || !b.email) return MISSING;
  if (a.email === b.email) return AGREE;
  const la = a.email.slice(0, a.email.indexOf('@'));
  return la.length > 3 && la === b.email.slice(0, b.email.indexOf('@')) ? PARTIAL : DISAGREE;
}

/** One level code per field of FIELDS, in order. */
export type ComparisonVector = Uint8Array;

/** Compares two prepared records field by field (FIELDS order). */
export function compareRecords(a: PreparedRecord, b: PreparedRecord): ComparisonVector {
  const names = compareNames(a, b);
  const v = new Uint8Array(FIELDS.length);
  v[0] = names.first;
  v[1] = names.last;
  v[2] = compareBirthday(a, b);
  v[3] = compareStreet(a, b);
  v[4] = comparePostalCode(a, b);
  v[5] = comparePhone(a, b);
  v[6] = compareEmail(a, b);
  return v;
}
