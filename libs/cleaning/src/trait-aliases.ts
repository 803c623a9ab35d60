import type { JsonObject, JsonValue } from './safe-json';

/** Address parts of the Segment reserved trait `address`. */
export const ADDRESS_FIELDS = ['street', 'city', 'state', 'postalCode', 'country'] as const;

/**
 * Spellings of Segment reserved traits, compared after lower-casing and dropping everything
 * but letters and digits (so `first_name`, `FirstName` and `First Name` are one spelling).
 */
const TRAIT_ALIASES = new Map<string, string>(
  Object.entries({
    firstname: 'firstName',
    fname: 'firstName',
    givenname: 'firstName',
    lastname: 'lastName',
    lname: 'lastName',
    surname: 'lastName',
    familyname: 'lastName',
    fullname: 'name',
    email: 'email',
    emailaddress: 'email',
    mail: 'email',
    phone: 'phone',
    phonenumber: 'phone',
    mobile: 'phone',
    mobilephone: 'phone',
    mobilenumber: 'phone',
    telephone: 'phone',
    dob: 'birthday',
    dateofbirth: 'birthday',
    birthdate: 'birthday',
    birthday: 'birthday',
    company: 'company',
    companyname: 'company',
    createdat: 'createdAt',
  }),
);

/** Spellings of the address parts, inside `address` or at the top level of traits. */
const ADDRESS_ALIASES = new Map<string, (typeof ADDRESS_FIELDS)[number]>(
  Object.entries({
    street: 'street',
    streetaddress: 'street',
    address1: 'street',
    addressline1: 'street',
    city: 'city',
    town: 'city',
    state: 'state',
    region: 'state',
    province: 'state',
    zip: 'postalCode',
    zipcode: 'postalCode',
    postcode: 'postalCode',
    postalcode: 'postalCode',
    country: 'country',
  } as const),
);

/**
 * Where `canonicalTraitKeys` puts a top-level trait sent as `key` when it is an alias of a reserved
 * trait (`first_name` -> ['firstName'], `zip` -> ['address', 'postalCode']); undefined when it is
 * none, or is the reserved name itself.
 */
export function reservedTraitPath(key: string): string[] | undefined {
  const trait = TRAIT_ALIASES.get(spelling(key));
  if (trait) return trait === key ? undefined : [trait];
  const part = ADDRESS_ALIASES.get(spelling(key));
  return part ? ['address', part] : undefined;
}

/** A trait whose invalid value was set aside (cleanTraits) still holds its name against aliases. */
const SET_ASIDE = new Map([
  ['email', 'invalidEmail'],
  ['phone', 'invalidPhone'],
]);

const has = (o: JsonObject, k: string): boolean => Object.hasOwn(o, k);

const spelling = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Maps address-part spellings inside an address object; a reserved name wins over its alias. */
function canonicalAddress(address: JsonObject): JsonObject {
  const out: JsonObject = {};
  const entries = Object.entries(address);
  // Reserved names first, so that they win over an alias of the same part.
  for (const [k, v] of entries) if ((ADDRESS_FIELDS as readonly string[]).includes(k)) out[k] = v;
  for (const [k, v] of entries) {
    if ((ADDRESS_FIELDS as readonly string[]).includes(k)) continue;
    const field = ADDRESS_ALIASES.get(spelling(k));
    if (field && !has(out, field)) out[field] = v;
    else if (!has(out, k)) out[k] = v;
  }
  return out;
}

/**
 * Renames common spellings of traits to the Segment reserved traits (`first_name` ->
 * `firstName`, `E-Mail` -> `email`, `zip` -> `address.postalCode`, ...). Where the sender also
 * set the reserved name, theirs wins and the alias stays as sent, so nothing is lost.
 * A top-level country is also kept at the top level (`country`), where segment definitions
 * look for it. Idempotent.
 */
export function canonicalTraitKeys(traits: JsonObject): JsonObject {
  const entries = Object.entries(traits);
  const out: JsonObject = {};
  const sentAddress = traits['address'];
  const address: JsonObject | undefined = isObject(sentAddress) ? canonicalAddress(sentAddress) : undefined;
  const parts: JsonObject = { ...address };
  // Parts move into the address only when it is an object or absent; a string address stays as sent.
  const movable = sentAddress === undefined || address !== undefined;
  // Reserved names first, so that they win over an alias of the same trait.
  for (const [k, v] of entries) if (k !== 'address' && TRAIT_ALIASES.get(spelling(k)) === k) out[k] = v;
  for (const [k, v] of entries) {
    if (k === 'address' || has(out, k)) continue;
    const key = spelling(k);
    const trait = TRAIT_ALIASES.get(key);
    const part = ADDRESS_ALIASES.get(key);
    const setAside = trait ? SET_ASIDE.get(trait) : undefined;
    if (trait && !has(out, trait) && !(setAside && has(traits, setAside))) out[trait] = v;
    else if (part && !isObject(v) && movable && !has(parts, part)) {
      parts[part] = v;
      if (part === 'country' && (k === 'country' || !has(traits, 'country'))) out['country'] = v;
    } else out[k] = v;
  }
  if (!movable) out['address'] = sentAddress;
  else if (Object.keys(parts).length > 0 || sentAddress !== undefined) out['address'] = parts;
  return out;
}
