import { createHash } from 'node:crypto';

/**
 * How CSV columns become an identify call: each column goes to `userId`, `anonymousId`,
 * `timestamp`, a trait (`traits.<name>`) or nowhere (`-`). Pure; the controller does the I/O.
 */
export type Target = 'userId' | 'anonymousId' | 'timestamp' | 'skip' | { trait: string };
export type Mapping = Target[];

export class MappingError extends Error {}

/** Header names (lower case, letters and digits only) that mean something without a --map. */
const DEFAULTS: Record<string, Target> = {
  userid: 'userId',
  customerid: 'userId',
  contactid: 'userId',
  externalid: 'userId',
  anonymousid: 'anonymousId',
  timestamp: 'timestamp',
  email: { trait: 'email' },
  emailaddress: { trait: 'email' },
  mail: { trait: 'email' },
  firstname: { trait: 'firstName' },
  givenname: { trait: 'firstName' },
  lastname: { trait: 'lastName' },
  surname: { trait: 'lastName' },
  familyname: { trait: 'lastName' },
  name: { trait: 'name' },
  fullname: { trait: 'name' },
  phone: { trait: 'phone' },
  phonenumber: { trait: 'phone' },
  mobile: { trait: 'phone' },
  company: { trait: 'company' },
  companyname: { trait: 'company' },
  title: { trait: 'title' },
  jobtitle: { trait: 'title' },
  country: { trait: 'country' },
  city: { trait: 'city' },
  createdat: { trait: 'createdAt' },
};

const squash = (header: string): string => header.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Trait names become Mongo field names downstream: no '.', no leading '$'. */
const TRAIT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_ -]{0,99}$/;

function parseTarget(spec: string, column: string): Target {
  if (spec === '-') return 'skip';
  if (spec === 'userId' || spec === 'anonymousId' || spec === 'timestamp') return spec;
  const trait = spec.startsWith('traits.') ? spec.slice('traits.'.length) : spec === 'email' ? 'email' : undefined;
  if (trait !== undefined && TRAIT_NAME.test(trait)) return { trait };
  throw new MappingError(`map for column "${column}": "${spec}" is not one of userId, anonymousId, timestamp, email, traits.<name>, -`);
}

/**
 * The mapping for a header row: `map` (column -> target, from `?map=col:target,...`) first,
 * then the defaults for common names, else the column becomes a trait of the same name.
 */
export function resolveMapping(header: string[], map: Record<string, string> = {}): Mapping {
  const known = new Set(header.map((h) => h.trim()));
  for (const column of Object.keys(map)) {
    if (!known.has(column)) throw new MappingError(`map names column "${column}", which is not in the header row`);
  }
  const mapping = header.map((raw): Target => {
    const column = raw.trim();
    const spec = map[column];
    if (spec !== undefined) return parseTarget(spec.trim(), column);
    const byDefault = DEFAULTS[squash(column)];
    if (byDefault) return byDefault;
    return TRAIT_NAME.test(column) ? { trait: column } : 'skip';
  });
  if (!mapping.some((t) => t === 'userId' || t === 'anonymousId' || (typeof t === 'object' && t.trait === 'email'))) {
    throw new MappingError('no column maps to userId, anonymousId or email; name one with map=<column>:userId');
  }
  return mapping;
}

/** `a:b,c:d` -> { a: 'b', c: 'd' }. */
export function parseMapParam(param: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of (param ?? '').split(',').filter((p) => p.trim() !== '')) {
    const at = pair.lastIndexOf(':');
    if (at <= 0) throw new MappingError(`map entry "${pair}" must be <column>:<target>`);
    map[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return map;
}

export type RowResult = { ok: true; message: Record<string, unknown> } | { ok: false; reason: string };

/**
 * One row as an identify. The messageId is derived from the source and the row's content, so
 * importing the same file again produces the same ids, which the pipeline dedupes. A row with
 * only an email gets an anonymousId derived from it (the Tracking API needs one of the two ids).
 */
export function rowToIdentify(mapping: Mapping, row: string[], sourceKey: string): RowResult {
  if (row.length !== mapping.length) return { ok: false, reason: `has ${row.length} fields, the header has ${mapping.length}` };
  const message: Record<string, unknown> = { type: 'identify' };
  const traits: Record<string, string> = {};
  mapping.forEach((target, i) => {
    const value = (row[i] ?? '').trim();
    if (value === '' || target === 'skip') return;
    if (typeof target === 'object') traits[target.trait] = value;
    else message[target] = value;
  });
  if (message['timestamp'] !== undefined && Number.isNaN(Date.parse(String(message['timestamp']))))
    return { ok: false, reason: `timestamp "${String(message['timestamp']).slice(0, 40)}" is not a date` };
  if (message['userId'] === undefined && message['anonymousId'] === undefined) {
    if (!traits['email']) return { ok: false, reason: 'no userId, anonymousId or email' };
    message['anonymousId'] = `import-${digest(traits['email'].toLowerCase()).slice(0, 24)}`;
  }
  message['traits'] = traits;
  message['messageId'] = `import-${digest(`${sourceKey}\n${JSON.stringify(row)}`).slice(0, 32)}`;
  return { ok: true, message };
}

const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
