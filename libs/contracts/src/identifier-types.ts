import { IdentifierTypes } from './event-types';

/** The identifier types events carry by name; custom ones are named by context.externalIds. */
export const BUILT_IN_IDENTIFIER_TYPES: readonly string[] = Object.values(IdentifierTypes);

/** Whether two strings are at most one insertion, deletion, substitution or adjacent swap apart. */
function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const restA = a.length - head - tail;
  const restB = b.length - head - tail;
  if (restA <= 1 && restB <= 1) return true;
  return restA === 2 && restB === 2 && a[head] === b[head + 1] && a[head + 1] === b[head];
}

const squash = (type: string): string => type.replace(/[-_]/g, '');

/**
 * The built-in type that `type` most likely misspells (mail, e-mail, userid, phnoe), or null.
 * Custom types cannot be told from typos by their form, and a misspelled built-in type would make a
 * regulation or an identity rule silently match nothing, so only near misses of the built-in names are refused;
 * numbered variants (email2, phone_2) are taken as deliberate custom types.
 */
export function misspelledIdentifierType(type: string): string | null {
  if (BUILT_IN_IDENTIFIER_TYPES.includes(type) || BUILT_IN_IDENTIFIER_TYPES.includes(type.replace(/[-_]?\d+$/, ''))) return null;
  return BUILT_IN_IDENTIFIER_TYPES.find((b) => squash(b) === squash(type) || withinOneEdit(b, type)) ?? null;
}
