import type { NormalizedEvent } from '@cdp/contracts';
import type { PersonRecord } from '@cdp/record-linkage';

/**
 * The person an identify call describes, from its traits (Segment spec names, with the snake_case
 * variants some sources send): name (`firstName`/`lastName`, or `name` split at its last space),
 * `birthday`, `address {street, city, postalCode, country}` and `phone`. Email is left out: a shared
 * email is flat matching's job, and a second address of the same person would count against them.
 */
export function personRecordOf(event: Pick<NormalizedEvent, 'type' | 'traits'>): PersonRecord | null {
  if (event.type !== 'identify') return null;
  let traits: unknown;
  try {
    traits = JSON.parse(event.traits);
  } catch {
    return null;
  }
  if (!isObject(traits)) return null;
  const text = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      const v = traits[k];
      if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, 200);
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    }
    return undefined;
  };
  const record: PersonRecord = {};
  let first = text('firstName', 'first_name', 'firstname');
  let last = text('lastName', 'last_name', 'lastname');
  const full = text('name');
  if (!first && !last && full) {
    const at = full.lastIndexOf(' ');
    if (at > 0) [first, last] = [full.slice(0, at), full.slice(at + 1)];
    else last = full;
  }
  if (first || last) record.name = { ...(first ? { first } : {}), ...(last ? { last } : {}) };
  const birthday = text('birthday', 'birthdate', 'date_of_birth');
  if (birthday) record.birthday = birthday;
  const phone = text('phone', 'phone_number');
  if (phone) record.phone = phone;
  const address = traits['address'];
  if (isObject(address)) {
    const field = (...keys: string[]): string | undefined => {
      for (const k of keys) {
        const v = address[k];
        if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, 200);
        if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      }
      return undefined;
    };
    const a = {
      street: field('street', 'street1', 'line1'),
      city: field('city'),
      postalCode: field('postalCode', 'postal_code', 'zip', 'zipCode'),
      country: field('country'),
    };
    const present = Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));
    if (Object.keys(present).length > 0) record.address = present;
  }
  return record;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
