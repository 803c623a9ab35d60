import { cleanEmail, cleanPhone, reservedTraitPath } from '@cdp/cleaning';
import { safeFieldName } from '@cdp/profile-model';

export const MAX_SEARCH_PAGE = 200;
export const DEFAULT_SEARCH_PAGE = 50;
/** Most trait conditions in one search. */
export const MAX_SEARCH_TRAITS = 10;

/** Where a trait is stored: its key (made safe as the normalizer makes keys safe) and a path into an object trait. */
export interface TraitField {
  key: string;
  /** `trait.address.city`: key `address`, path `['city']`; usually empty. */
  path: string[];
}

export interface TraitCondition {
  /** The trait as named, then the reserved trait the normalizer files that name under (`first_name`: `firstName`), if any: either may hold it. */
  fields: TraitField[];
  /** The query value as text and, when it reads as one, as a JSON number, boolean or null; an email or phone also as cleaned. */
  values: (string | number | boolean | null)[];
}

export interface ProfileSearch {
  conditions: TraitCondition[];
  limit: number;
  after: string | null;
}

/**
 * Query strings carry text only, so `trait.age=42` matches the trait stored as 42 or as "42";
 * `true`/`false`/`null` likewise.
 */
export function candidateValues(text: string): (string | number | boolean | null)[] {
  if (text === 'true') return [text, true];
  if (text === 'false') return [text, false];
  if (text === 'null') return [text, null];
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n) && /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim())) return [text, n];
  return [text];
}

export const encodeSearchCursor = (profileId: string): string => Buffer.from(profileId, 'utf8').toString('base64url');

export function decodeSearchCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return id !== '' && encodeSearchCursor(id) === cursor ? id : null;
}

/**
 * The fields and values one `trait.<name>=<value>` matches. The normalizer renames aliases to the
 * reserved traits (keeping the alias only when the reserved one was also sent), lower-cases
 * emails and writes phones in E.164, so a search by what the app sent finds what was stored. A
 * phone without a country code is read as a US one (the default region), as regulations read it.
 */
function traitCondition(key: string, path: string[], raw: string): TraitCondition {
  const sent = { key: safeFieldName(key), path: path.map(safeFieldName) };
  const [reservedKey, ...reservedPath] = (path.length === 0 && reservedTraitPath(key)) || [];
  const fields = reservedKey ? [sent, { key: reservedKey, path: reservedPath }] : [sent];
  const values = candidateValues(raw);
  const names = (trait: string) => fields.some((f) => f.key === trait && f.path.length === 0);
  const phone = names('phone') ? cleanPhone(raw) : undefined;
  const cleaned = [names('email') ? cleanEmail(raw).value : null, phone?.valid ? phone.value : null];
  for (const value of cleaned) if (value !== null && !values.includes(value)) values.push(value);
  return { fields, values };
}

/** Reads `?trait.<name>=<value>&limit=&cursor=`; a string is the error message for a 400. */
export function parseProfileSearch(query: Record<string, unknown>): ProfileSearch | string {
  const conditions: TraitCondition[] = [];
  let limit = DEFAULT_SEARCH_PAGE;
  let after: string | null = null;
  for (const [param, raw] of Object.entries(query)) {
    if (typeof raw !== 'string') return `${param.slice(0, 100)} must be given once`;
    if (param === 'limit') {
      limit = Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_PAGE) return `limit must be an integer from 1 to ${MAX_SEARCH_PAGE}`;
    } else if (param === 'cursor') {
      after = decodeSearchCursor(raw);
      if (after === null) return 'cursor is not valid; use the "next" value of a previous page';
    } else if (param.startsWith('trait.') && param.length > 'trait.'.length && param.length <= 'trait.'.length + 200) {
      if (raw.length > 1024) return 'a trait value must be at most 1024 characters';
      // Stored trait names hold no '.', so one is a path into an object trait (the address).
      const [key = '', ...path] = param.slice('trait.'.length).split('.');
      if (key === '' || path.includes('')) return `${param.slice(0, 100)} has an empty part: trait.<name> or trait.<name>.<field>`;
      conditions.push(traitCondition(key, path, raw));
    } else {
      return `unknown parameter ${param.slice(0, 100)}: search with trait.<name>=<value>, limit and cursor`;
    }
  }
  if (conditions.length === 0) return 'give at least one trait.<name>=<value>';
  if (conditions.length > MAX_SEARCH_TRAITS) return `at most ${MAX_SEARCH_TRAITS} trait conditions`;
  return { conditions, limit, after };
}
