import { createHash } from 'node:crypto';
import { parseTime, safeKey } from '@cdp/cleaning';
import { COLUMN_TYPES, typedValue, type ColumnType } from './column-types';

/**
 * How CSV columns become an identify call (and, with an event name, a track): each column goes to
 * `userId`, `anonymousId`, `timestamp`, a trait (`traits.<name>`), a property of the track
 * (`properties.<name>`) or nowhere (`-`). Pure; the controller does the I/O.
 */
export type Target =
  | 'userId'
  | 'anonymousId'
  | 'timestamp'
  | 'skip'
  | { trait: string; type?: ColumnType }
  | { property: string; type?: ColumnType };
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
/** Trait and property names become Mongo field names downstream: no '.', no leading '$'. */
const TRAIT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_ -]{0,99}$/;

function parseTarget(spec: string, column: string): Target {
  if (spec === '-') return 'skip';
  if (spec === 'userId' || spec === 'anonymousId' || spec === 'timestamp') return spec;
  const trait = spec.startsWith('traits.') ? spec.slice('traits.'.length) : spec === 'email' ? 'email' : undefined;
  if (trait !== undefined && TRAIT_NAME.test(trait)) return { trait };
  const property = spec.startsWith('properties.') ? spec.slice('properties.'.length) : undefined;
  if (property !== undefined && TRAIT_NAME.test(property)) return { property };
  throw new MappingError(
    `map for column "${column}": "${spec}" is not one of userId, anonymousId, timestamp, email, traits.<name>, properties.<name>, -`,
  );
}

/** Longest event name an import's track calls may carry. */
const MAX_EVENT_NAME = 200;

/**
 * The import's `event` parameter (each row also a track of that name), checked against `map`: a
 * `properties.<name>` target has nowhere to go without one.
 */
export function importEvent(event: unknown, map: Record<string, string>): string | null {
  const name = typeof event === 'string' ? event.trim() : '';
  if (event !== undefined && (name === '' || name.length > MAX_EVENT_NAME))
    throw new MappingError(`event must be an event name of 1 to ${MAX_EVENT_NAME} characters`);
  const property = Object.entries(map).find(([, spec]) => spec.trim().startsWith('properties.'));
  if (event === undefined && property)
    throw new MappingError(
      `map sends column "${property[0]}" to ${property[1].trim()}, which needs event=<name> (each row then also a track)`,
    );
  return event === undefined ? null : name;
}

/** Where one column (or NDJSON field) goes: `map` first, then the defaults, else a trait of its name. */
export function targetFor(column: string, map: Record<string, string> = {}): Target {
  // Own keys only: a column named "constructor" or "toString" is data, not Object.prototype.
  const spec = Object.hasOwn(map, column) ? map[column] : undefined;
  if (spec !== undefined) return parseTarget(spec.trim(), column);
  const squashed = squash(column);
  if (Object.hasOwn(DEFAULTS, squashed)) return DEFAULTS[squashed] as Target;
  // Any other name is a trait, made safe the way /v1/identify's traits are (`plan.name` -> `plan_name`, `$score` -> `_score`).
  if (column === '') return 'skip';
  if (column.length > MAX_COLUMN_NAME)
    throw new MappingError(
      `column name "${column.slice(0, 40)}..." is longer than ${MAX_COLUMN_NAME} characters: map it (map=<column>:<target>) or rename it`,
    );
  return { trait: safeKey(column) };
}

/** Longest column (or NDJSON field) name taken as a trait name. */
const MAX_COLUMN_NAME = 200;

/** Checks every target of a `map` parameter, whatever columns the file turns out to have. */
export function checkMap(map: Record<string, string>): void {
  for (const [column, spec] of Object.entries(map)) parseTarget(spec.trim(), column);
}

/**
 * The mapping for a header row: `map` (column -> target, from `?map=col:target,...`) first,
 * then the defaults for common names, else the column becomes a trait of the same name.
 */
export function resolveMapping(header: string[], map: Record<string, string> = {}, types: Record<string, ColumnType> = {}): Mapping {
  // Spreadsheets in many locales export `;` or tab-separated files: say so, rather than name no id column.
  const other = header.length === 1 ? [';', '\t', '|'].find((d) => (header[0] ?? '').includes(d)) : undefined;
  if (other !== undefined)
    throw new MappingError(`the header row is one column split by ${JSON.stringify(other)}: send the file comma-separated`);
  const known = new Set(header.map((h) => h.trim()));
  for (const [param, columns] of [
    ['map', map],
    ['types', types],
  ] as const) {
    for (const column of Object.keys(columns))
      if (!known.has(column)) throw new MappingError(`${param} names column "${column}", which is not in the header row`);
  }
  const mapping = header.map((raw) => typedTarget(raw.trim(), targetFor(raw.trim(), map), types));
  const names = header.map((raw) => raw.trim());
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  // `map` names columns, so it cannot tell two of one name apart: the file has to.
  if (twice !== undefined) throw new MappingError(`the header names "${twice}" twice; rename one of the columns in the file`);
  const clash = firstClash(names.map((name, i) => [name, mapping[i] as Target]));
  if (clash)
    throw new MappingError(
      `${clash}; map one of them elsewhere (map=<column>:traits.<name>, cdp import --map) or leave it out (map=<column>:-)`,
    );
  if (!mapping.some((t) => t === 'userId' || t === 'anonymousId' || (typeof t === 'object' && 'trait' in t && t.trait === 'email'))) {
    throw new MappingError('no column maps to userId, anonymousId or email; name one with map=<column>:userId');
  }
  return mapping;
}

/** A column's target with the type `types` gives it: only a trait or a property takes one. */
function typedTarget(column: string, target: Target, types: Record<string, ColumnType>): Target {
  const type = Object.hasOwn(types, column) ? types[column] : undefined;
  if (type === undefined || type === 'string') return target;
  if (typeof target !== 'object')
    throw new MappingError(`types names column "${column}", which goes to ${target}: only a trait or a property takes a type`);
  return { ...target, type };
}

const targetName = (t: Exclude<Target, 'skip'>): string =>
  typeof t !== 'object' ? t : 'trait' in t ? `traits.${t.trait}` : `properties.${t.property}`;

/** The first two columns (or fields) going to the same place, said in words; null when none do. */
function firstClash(columns: [string, Target][]): string | null {
  const seen = new Map<string, string>();
  for (const [column, target] of columns) {
    if (target === 'skip') continue;
    const name = targetName(target);
    const first = seen.get(name);
    if (first !== undefined) return `"${first}" and "${column}" both map to ${name}`;
    seen.set(name, column);
  }
  return null;
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

/** `a:number,b:boolean` -> { a: 'number', b: 'boolean' } (a column may contain colons). */
export function parseTypesParam(param: string | undefined): Record<string, ColumnType> {
  const types: Record<string, ColumnType> = {};
  for (const pair of (param ?? '').split(',').filter((p) => p.trim() !== '')) {
    const at = pair.lastIndexOf(':');
    const type = pair.slice(at + 1).trim();
    if (at <= 0 || !(COLUMN_TYPES as readonly string[]).includes(type))
      throw new MappingError(`types entry "${pair}" must be <column>:<type> with a type of ${COLUMN_TYPES.join(', ')}`);
    types[pair.slice(0, at).trim()] = type as ColumnType;
  }
  return types;
}

/**
 * A row as an identify message, the properties of its track (if the import names an event), and
 * the row's own id (source and row text: what its track's messageId derives from).
 */
export type RowResult =
  | { ok: true; message: Record<string, unknown>; properties: Record<string, unknown>; rowId: string }
  | { ok: false; reason: string };

/**
 * One row as an identify. Its messageId derives from the source and the identify as mapped, so
 * importing the same file again produces the same ids, which the pipeline dedupes, while a file
 * imported again with a corrected `map` or `types` changes the traits it sets. A row with only an
 * email gets an anonymousId derived from it (the Tracking API needs one of the two ids).
 */
export function rowToIdentify(mapping: Mapping, row: string[], sourceKey: string): RowResult {
  if (row.length !== mapping.length) return { ok: false, reason: `has ${row.length} fields, the header has ${mapping.length}` };
  const message: Record<string, unknown> = { type: 'identify' };
  const traits: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  for (const [i, target] of mapping.entries()) {
    const value = (row[i] ?? '').trim();
    if (value === '' || target === 'skip') continue;
    if (typeof target !== 'object') message[target] = value;
    else {
      const typed = typedValue(target.type ?? 'string', value);
      if (!typed.ok) return { ok: false, reason: `${targetName(target)}: ${typed.reason}` };
      if ('trait' in target) traits[target.trait] = typed.value;
      else properties[target.property] = typed.value;
    }
  }
  return finishIdentify(message, traits, properties, JSON.stringify(row), sourceKey);
}

/**
 * One NDJSON record as an identify: each field mapped like a CSV column, values keep their JSON
 * types in traits; ids and the timestamp must be strings or numbers. Same messageId rule as CSV.
 */
export function recordToIdentify(
  record: unknown,
  map: Record<string, string>,
  sourceKey: string,
  types: Record<string, ColumnType> = {},
): RowResult {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { ok: false, reason: 'line is not a JSON object' };
  const message: Record<string, unknown> = { type: 'identify' };
  const traits: Record<string, unknown> = {};
  const fields = Object.entries(record as Record<string, unknown>).flatMap(([field, raw]): [string, Target, unknown][] => {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    return value === null || value === '' ? [] : [[field, targetFor(field, map), value]];
  });
  for (const [i, [field, target, value]] of fields.entries()) {
    const type = Object.hasOwn(types, field) ? types[field] : undefined;
    // A JSON value keeps its own type; text is read as the one `types` names.
    if (type === undefined || typeof target !== 'object' || typeof value !== 'string') continue;
    const typed = typedValue(type, value);
    if (!typed.ok) return { ok: false, reason: `${field}: ${typed.reason}` };
    fields[i] = [field, target, typed.value];
  }
  const clash = firstClash(fields.map(([field, target]) => [field, target]));
  if (clash) return { ok: false, reason: clash };
  const properties: Record<string, unknown> = {};
  for (const [field, target, value] of fields) {
    if (target === 'skip') continue;
    if (typeof target === 'object') {
      if ('trait' in target) traits[target.trait] = value;
      else properties[target.property] = value;
    } else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) message[target] = String(value);
    else return { ok: false, reason: `${field} (${target}) must be a string or a number` };
  }
  return finishIdentify(message, traits, properties, JSON.stringify(record), sourceKey);
}

function finishIdentify(
  message: Record<string, unknown>,
  traits: Record<string, unknown>,
  properties: Record<string, unknown>,
  rowKey: string,
  sourceKey: string,
): RowResult {
  // As the normalizer reads it: a row's time it would replace by the import's is refused here.
  if (message['timestamp'] !== undefined && parseTime(message['timestamp']) === undefined)
    return {
      ok: false,
      reason: `timestamp "${String(message['timestamp']).slice(0, 40)}" is not a time (ISO 8601, RFC 2822 or epoch seconds or millis, from 2000 on)`,
    };
  if (message['userId'] === undefined && message['anonymousId'] === undefined) {
    const email = traits['email'];
    if (typeof email !== 'string' || email === '') return { ok: false, reason: 'no userId, anonymousId or email' };
    message['anonymousId'] = `import-${digest(email.toLowerCase()).slice(0, 24)}`;
  }
  message['traits'] = traits;
  message['messageId'] = `import-${digest(`${sourceKey}\n${JSON.stringify(message)}`).slice(0, 32)}`;
  return { ok: true, message, properties, rowId: digest(`${sourceKey}\n${rowKey}`) };
}

/**
 * The track of an imported row: its identify's ids and timestamp, the row's `properties.<name>`
 * columns, and a messageId derived from the row and the event name. Not from the mapping: a file
 * imported again with another `map` must not count its orders twice.
 */
export function rowTrack(
  row: { message: Record<string, unknown>; properties: Record<string, unknown>; rowId: string },
  event: string,
): Record<string, unknown> {
  const { userId, anonymousId, timestamp } = row.message;
  return {
    type: 'track',
    event,
    ...(userId !== undefined ? { userId } : {}),
    ...(anonymousId !== undefined ? { anonymousId } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
    properties: row.properties,
    messageId: `import-${digest(`${row.rowId}\n${event}`).slice(0, 32)}`,
  };
}

const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
