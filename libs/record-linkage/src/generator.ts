import { countries, STREET_ABBREVIATIONS, type Country } from './generator-data';
import { canonicalFirstName, nicknamesOf } from './nicknames';
import { normalizeText } from './normalize';
import type { LabeledRecord, PersonRecord } from './record';
import { mulberry32 } from './random';

/** The real person behind generated records. */
interface Entity {
  id: string;
  country: Country;
  first: string;
  last: string;
  birthday: { y: number; m: number; d: number };
  address: { street: string; city: string; postalCode: string; country: string };
  /** National significant number (digits, no trunk prefix). */
  phone: string;
  email: string;
}

export interface GeneratorOptions {
  records: number;
  seed?: number;
  /** Share of people created as a relative of an earlier one (same last name, address, often phone). */
  householdRate?: number;
  /** How many records a person has: weights of 1, 2, 3, 4, 5 records. */
  recordsPerPerson?: number[];
}

type Rand = () => number;

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
/** Zipf-like: earlier (more common) entries are picked more often. */
const pickCommon = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(xs.length * Math.pow(rand(), 1.8))];
const chance = (rand: Rand, p: number): boolean => rand() < p;
const pad = (n: number): string => String(n).padStart(2, '0');
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];

/** One keying error: a wrong, missing, extra or two transposed letters. */
export function typo(rand: Rand, s: string): string {
  if (s.length < 3) return s;
  const i = 1 + Math.floor(rand() * (s.length - 2)); // people rarely get the first letter wrong
  switch (Math.floor(rand() * 4)) {
    case 0:
      return s.slice(0, i) + pick(rand, LETTERS) + s.slice(i + 1);
    case 1:
      return s.slice(0, i) + s.slice(i + 1);
    case 2:
      return s.slice(0, i) + pick(rand, LETTERS) + s.slice(i);
    default:
      return s.slice(0, i - 1) + s[i] + s[i - 1] + s.slice(i + 1);
  }
}

/** How the same text gets typed differently without changing its meaning. */
function styleNoise(rand: Rand, s: string): string {
  const r = rand();
  if (r < 0.15) return s.toUpperCase();
  if (r < 0.25) return s.toLowerCase();
  if (r < 0.35) return normalizeText(s).replace(/\b\w/g, (c) => c.toUpperCase()); // accents and apostrophes lost
  if (r < 0.4) return `  ${s} `;
  return s;
}

function phoneFormats(rand: Rand, country: Country, nsn: string): string {
  const cc = country.callingCode;
  const trunk = cc === '1' ? '' : '0';
  switch (Math.floor(rand() * 5)) {
    case 0:
    case 1:
      return `+${cc}${nsn}`;
    case 2:
      return `+${cc} ${nsn.slice(0, 3)} ${nsn.slice(3, 6)} ${nsn.slice(6)}`;
    case 3:
      return cc === '1' ? `(${nsn.slice(0, 3)}) ${nsn.slice(3, 6)}-${nsn.slice(6)}` : `${trunk}${nsn.slice(0, 4)} ${nsn.slice(4)}`;
    default:
      return `00${cc}-${nsn}`;
  }
}

function newPhone(rand: Rand, c: Country): string {
  const first = c.mobilePrefix || String(2 + Math.floor(rand() * 8));
  let s = first;
  while (s.length < c.nsnLength) s += Math.floor(rand() * 10);
  return s;
}

function newAddress(rand: Rand, c: Country): Entity['address'] {
  const city = pick(rand, c.cities);
  const n = 1 + Math.floor(Math.pow(rand(), 2) * 200);
  const name = pick(rand, c.streets);
  const suffix = pick(rand, c.streetSuffixes);
  let street: string;
  if (c.code === 'DE') street = `${name}${suffix} ${n}`;
  else if (c.code === 'ES') street = `${suffix} ${name} ${n}`;
  else if (c.code === 'FR') street = `${n} ${suffix} ${name}`;
  else street = `${n} ${name} ${suffix}`;
  return { street, city: city.name, postalCode: city.postal(), country: c.code };
}

/** Email addresses in use: a mailbox belongs to one person, so a taken one gets a number. */
const takenEmails = new WeakMap<Rand, Set<string>>();

function newEmail(rand: Rand, first: string, last: string, c: Country): string {
  const taken = takenEmails.get(rand) ?? new Set<string>();
  takenEmails.set(rand, taken);
  let email = candidateEmail(rand, first, last, c);
  while (taken.has(email)) email = email.replace('@', String(Math.floor(rand() * 10)) + '@');
  taken.add(email);
  return email;
}

function candidateEmail(rand: Rand, first: string, last: string, c: Country): string {
  const f = normalizeText(first).replace(/ /g, '');
  const l = normalizeText(last).replace(/ /g, '');
  const local = pick(rand, [
    `${f}.${l}`,
    `${f[0]}${l}`,
    `${f}${l}${Math.floor(rand() * 100)}`,
    `${l}.${f}`,
    `${f}_${l}${1950 + Math.floor(rand() * 60)}`,
  ]);
  return `${local}@${pick(rand, c.emailDomains)}`;
}

function newBirthday(rand: Rand, from = 1940, to = 2006): Entity['birthday'] {
  return { y: from + Math.floor(rand() * (to - from + 1)), m: 1 + Math.floor(rand() * 12), d: 1 + Math.floor(rand() * 28) };
}

function newPerson(rand: Rand, id: string, all: Country[]): Entity {
  const c = pickCommon(rand, all);
  const first = pickCommon(rand, chance(rand, 0.5) ? c.first.f : c.first.m);
  const last = pickCommon(rand, c.last);
  return {
    id,
    country: c,
    first,
    last,
    birthday: newBirthday(rand),
    address: newAddress(rand, c),
    phone: newPhone(rand, c),
    email: newEmail(rand, first, last, c),
  };
}

/** A spouse, child, parent or twin: same last name and address, often the same (landline) phone. */
function relativeOf(rand: Rand, id: string, p: Entity): Entity {
  const c = p.country;
  const r = rand();
  let birthday: Entity['birthday'];
  let first = pickCommon(rand, chance(rand, 0.5) ? c.first.f : c.first.m);
  if (r < 0.03)
    birthday = { ...p.birthday }; // twin
  else if (r < 0.5)
    birthday = newBirthday(rand, p.birthday.y - 6, p.birthday.y + 6); // spouse, sibling
  else birthday = newBirthday(rand, Math.min(p.birthday.y + 20, 2006), Math.min(p.birthday.y + 38, 2006)); // child
  if (r >= 0.5 && chance(rand, 0.05)) first = p.first; // "junior"
  if (first === p.first && r < 0.03)
    first = pickCommon(
      rand,
      c.first.f.filter((n) => n !== p.first),
    );
  return {
    id,
    country: c,
    first,
    last: p.last,
    birthday,
    address: { ...p.address },
    phone: chance(rand, 0.4) ? p.phone : newPhone(rand, c),
    email: newEmail(rand, first, p.last, c),
  };
}

function firstNameVariant(rand: Rand, first: string): string {
  const r = rand();
  if (r < 0.12) {
    const nicks = nicknamesOf(canonicalFirstName(normalizeText(first)));
    if (nicks.length) {
      const n = pick(rand, nicks);
      return n[0].toUpperCase() + n.slice(1);
    }
  }
  if (r < 0.14) return `${first[0]}.`;
  if (r < 0.2) return typo(rand, first);
  return first;
}

function streetVariant(rand: Rand, street: string): string {
  let s = street;
  if (chance(rand, 0.3)) for (const [long, short] of Object.entries(STREET_ABBREVIATIONS)) s = s.replace(long, short);
  if (chance(rand, 0.05)) s = typo(rand, s);
  return styleNoise(rand, s);
}

/** One record of a person as a CRM row or an identify call would carry it. */
function recordOf(rand: Rand, e: Entity, all: Country[]): PersonRecord {
  let first: string | undefined = styleNoise(rand, firstNameVariant(rand, e.first));
  let last: string | undefined = styleNoise(rand, chance(rand, 0.05) ? typo(rand, e.last) : e.last);
  if (e.last.includes(' ') && chance(rand, 0.3)) last = e.last.split(' ')[0];
  if (chance(rand, 0.03)) [first, last] = [last, first];
  if (chance(rand, 0.03)) first = undefined;
  else if (chance(rand, 0.02)) last = undefined;

  const out: PersonRecord = { name: { first, last } };
  if (!chance(rand, 0.1)) {
    const b = { ...e.birthday };
    const r = rand();
    if (r < 0.02 && b.d <= 12 && b.d !== b.m) [b.d, b.m] = [b.m, b.d];
    let iso = `${b.y}-${pad(b.m)}-${pad(b.d)}`;
    if (r >= 0.02 && r < 0.04) {
      const i = pick(rand, [2, 3, 6, 9]); // a year or day digit
      iso = iso.slice(0, i) + String((Number(iso[i]) + 1) % 10) + iso.slice(i + 1);
    }
    out.birthday = iso;
  }
  if (!chance(rand, 0.08)) {
    // Moved since (a fifth of the time to the same city).
    const a = chance(rand, 0.06) ? newAddress(rand, chance(rand, 0.2) ? e.country : pick(rand, all)) : e.address;
    out.address = {
      street: chance(rand, 0.08) ? undefined : streetVariant(rand, a.street),
      city: chance(rand, 0.1) ? undefined : styleNoise(rand, a.city),
      postalCode: chance(rand, 0.05) ? undefined : chance(rand, 0.2) ? a.postalCode.toLowerCase().replace(' ', '') : a.postalCode,
      country: a.country,
    };
  }
  if (!chance(rand, 0.25)) out.phone = phoneFormats(rand, e.country, chance(rand, 0.05) ? newPhone(rand, e.country) : e.phone);
  if (!chance(rand, 0.3)) out.email = chance(rand, 0.1) ? newEmail(rand, e.first, e.last, pick(rand, all)) : e.email;
  return out;
}

/**
 * A labeled data set of `records` person records: people with one to five records each, every record
 * independently corrupted (typos, transposed letters, nicknames, initials, swapped names, missing fields,
 * moves, other phone formats, keying errors in birth dates), plus households (relatives sharing last name,
 * address and phone, a few twins and juniors) that make the non-matches hard. Deterministic for a seed.
 */
export function generateLabeledRecords(options: GeneratorOptions): LabeledRecord[] {
  const rand = mulberry32(options.seed ?? 1);
  const all = countries(rand);
  const householdRate = options.householdRate ?? 0.12;
  const weights = options.recordsPerPerson ?? [0.5, 0.28, 0.13, 0.06, 0.03];
  const total = weights.reduce((a, b) => a + b, 0);
  const people: Entity[] = [];
  const out: LabeledRecord[] = [];
  while (out.length < options.records) {
    const id = `p${people.length + 1}`;
    const e = people.length && chance(rand, householdRate) ? relativeOf(rand, id, pick(rand, people)) : newPerson(rand, id, all);
    people.push(e);
    let r = rand() * total;
    let k = 0;
    while (k < weights.length - 1 && r >= weights[k]) r -= weights[k++];
    for (let i = 0; i <= k && out.length < options.records; i++)
      out.push({ id: `r${out.length + 1}`, entityId: e.id, record: recordOf(rand, e, all) });
  }
  // Shuffle so that a person's records are not adjacent (order must not help).
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.map((r, i) => ({ ...r, id: `r${i + 1}` }));
}
