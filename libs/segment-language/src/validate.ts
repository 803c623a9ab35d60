import {
  COMPARATORS,
  COUNT_COMPARATORS,
  Limits,
  WINDOW_UNITS,
  durationMs,
  type Comparator,
  type Condition,
  type CountComparator,
  type Duration,
  type EventCondition,
  type PropertyFilter,
  type Scalar,
  type WindowUnit,
} from './ast';
import { patternProblem } from '@cdp/safe-regex';

/** One problem in a definition: where (a JSON path like `$.of[1].cmp`) and what is wrong. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; definition: Condition } | { ok: false; issues: ValidationIssue[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

const ALLOWED_KEYS: Record<string, readonly string[]> = {
  and: ['op', 'of'],
  or: ['op', 'of'],
  not: ['op', 'of'],
  trait: ['op', 'key', 'cmp', 'value', 'flags'],
  computed: ['op', 'key', 'cmp', 'value', 'flags'],
  event: ['op', 'name', 'where', 'within', 'between', 'count'],
  segment: ['op', 'segment'],
  consent: ['op', 'category'],
};

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Limits.maxCount;

/**
 * Checks that untrusted JSON is a well-formed definition and returns a clean copy of it
 * (only known fields), or every problem found with its path.
 */
export function validateDefinition(input: unknown): ValidationResult {
  const issues: ValidationIssue[] = [];
  const counter = { nodes: 0 };
  const definition = check(input, '$', 1, issues, counter);
  if (counter.nodes > Limits.maxNodes)
    issues.push({ path: '$', message: `has ${counter.nodes} conditions; at most ${Limits.maxNodes} are allowed` });
  return issues.length === 0 && definition ? { ok: true, definition } : { ok: false, issues };
}

/** The issues as one line, for an HTTP 400 or a log. */
export const formatIssues = (issues: readonly ValidationIssue[]): string => issues.map((i) => `${i.path}: ${i.message}`).join('; ');

function check(node: unknown, path: string, depth: number, issues: ValidationIssue[], counter: { nodes: number }): Condition | undefined {
  counter.nodes++;
  if (depth > Limits.maxDepth) {
    issues.push({ path, message: `nesting is deeper than ${Limits.maxDepth} levels` });
    return undefined;
  }
  if (!isRecord(node)) {
    issues.push({ path, message: 'must be an object with an "op" field' });
    return undefined;
  }
  const op = node['op'];
  if (typeof op !== 'string' || !Object.hasOwn(ALLOWED_KEYS, op)) {
    issues.push({
      path: `${path}.op`,
      message: `must be one of ${Object.keys(ALLOWED_KEYS)
        .map((k) => `"${k}"`)
        .join(', ')}`,
    });
    return undefined;
  }
  for (const key of Object.keys(node)) {
    if (!ALLOWED_KEYS[op]?.includes(key)) issues.push({ path: `${path}.${key}`, message: `is not a field of a "${op}" condition` });
  }
  switch (op) {
    case 'and':
    case 'or': {
      const of = node['of'];
      if (!Array.isArray(of) || of.length < 2) {
        issues.push({ path: `${path}.of`, message: `must be a list of at least 2 conditions` });
        return undefined;
      }
      const children = of.map((child, i) => check(child, `${path}.of[${i}]`, depth + 1, issues, counter));
      return children.every((c): c is Condition => c !== undefined) ? { op, of: children } : undefined;
    }
    case 'not': {
      const child = check(node['of'], `${path}.of`, depth + 1, issues, counter);
      return child ? { op, of: child } : undefined;
    }
    case 'event':
      return checkEvent(node, path, issues);
    case 'segment': {
      const segment = node['segment'];
      if (typeof segment !== 'string' || segment.length === 0 || segment.length > Limits.maxKeyLength) {
        issues.push({ path: `${path}.segment`, message: `must be a segment id or name of 1 to ${Limits.maxKeyLength} characters` });
        return undefined;
      }
      return { op: 'segment', segment };
    }
    case 'consent': {
      const category = node['category'];
      if (typeof category !== 'string' || category.length === 0 || category.length > Limits.maxKeyLength) {
        issues.push({ path: `${path}.category`, message: `must be a consent category of 1 to ${Limits.maxKeyLength} characters` });
        return undefined;
      }
      return { op: 'consent', category };
    }
    default: {
      // `trait` and `computed`: the same comparison rules, on a profile trait or a computed trait.
      const filter = checkFilter(node, path, issues);
      return filter ? { op: op === 'computed' ? 'computed' : 'trait', ...filter } : undefined;
    }
  }
}

function checkEvent(node: Record<string, unknown>, path: string, issues: ValidationIssue[]): Condition | undefined {
  const before = issues.length;
  const name = node['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > Limits.maxKeyLength)
    issues.push({ path: `${path}.name`, message: `must be an event name of 1 to ${Limits.maxKeyLength} characters` });
  let where: PropertyFilter[] | undefined;
  if ('where' in node) {
    const raw = node['where'];
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > Limits.maxFilters) {
      issues.push({
        path: `${path}.where`,
        message: `must be a list of 1 to ${Limits.maxFilters} property filters (leave it out for none)`,
      });
    } else {
      const filters = raw.map((f, i) => {
        if (isRecord(f)) {
          for (const k of Object.keys(f))
            if (!['key', 'cmp', 'value', 'flags'].includes(k))
              issues.push({ path: `${path}.where[${i}].${k}`, message: 'is not a field of a property filter' });
          return checkFilter(f, `${path}.where[${i}]`, issues);
        }
        issues.push({ path: `${path}.where[${i}]`, message: 'must be an object {key, cmp, value}' });
        return undefined;
      });
      if (filters.every((f): f is PropertyFilter => f !== undefined)) where = filters;
    }
  }
  const within = 'within' in node ? checkDuration(node['within'], `${path}.within`, issues) : undefined;
  let between: EventCondition['between'];
  if ('between' in node) {
    const b = node['between'];
    if (!isRecord(b) || Object.keys(b).some((k) => k !== 'from' && k !== 'to')) {
      issues.push({ path: `${path}.between`, message: `must be {from: ${DURATION}, to: ${DURATION}}` });
    } else {
      const from = checkDuration(b['from'], `${path}.between.from`, issues);
      const to = checkDuration(b['to'], `${path}.between.to`, issues);
      if (from && to && durationMs(from) <= durationMs(to))
        issues.push({ path: `${path}.between`, message: '"from" must be longer ago than "to" (e.g. from 60 days to 30 days)' });
      else if (from && to) between = { from, to };
    }
    if ('within' in node) issues.push({ path: `${path}.between`, message: 'an event condition has "within" or "between", not both' });
  }
  const count = node['count'];
  if (
    !isRecord(count) ||
    Object.keys(count).some((k) => k !== 'cmp' && k !== 'value') ||
    typeof count['cmp'] !== 'string' ||
    !(COUNT_COMPARATORS as readonly string[]).includes(count['cmp']) ||
    !isCount(count['value'])
  ) {
    issues.push({
      path: `${path}.count`,
      message: `must be {cmp: ${COUNT_COMPARATORS.map((c) => `"${c}"`).join(' | ')}, value: an integer from 0 to ${Limits.maxCount}}`,
    });
  }
  if (issues.length > before) return undefined;
  const c = count as { cmp: CountComparator; value: number };
  // Canonical field order (name, where, within, between, count), as the parser builds it.
  return {
    op: 'event',
    name: name as string,
    ...(where ? { where } : {}),
    ...(within ? { within } : {}),
    ...(between ? { between } : {}),
    count: { cmp: c.cmp, value: c.value },
  } satisfies EventCondition;
}

const DURATION = `{amount: an integer from 1 to ${Limits.maxCount}, unit: ${WINDOW_UNITS.map((u) => `"${u}"`).join(' | ')}}`;

function checkDuration(d: unknown, path: string, issues: ValidationIssue[]): Duration | undefined {
  if (
    !isRecord(d) ||
    Object.keys(d).some((k) => k !== 'amount' && k !== 'unit') ||
    !isCount(d['amount']) ||
    d['amount'] < 1 ||
    typeof d['unit'] !== 'string' ||
    !(WINDOW_UNITS as readonly string[]).includes(d['unit'])
  ) {
    issues.push({ path, message: `must be ${DURATION}` });
    return undefined;
  }
  return { amount: d['amount'] as number, unit: d['unit'] as WindowUnit };
}

function checkFilter(node: Record<string, unknown>, path: string, issues: ValidationIssue[]): PropertyFilter | undefined {
  const before = issues.length;
  const key = node['key'];
  if (typeof key !== 'string' || key.length === 0 || key.length > Limits.maxKeyLength) {
    issues.push({ path: `${path}.key`, message: `must be a non-empty string of at most ${Limits.maxKeyLength} characters` });
  }
  const cmp = node['cmp'];
  if (typeof cmp !== 'string' || !(COMPARATORS as readonly string[]).includes(cmp)) {
    issues.push({ path: `${path}.cmp`, message: `must be one of ${COMPARATORS.map((c) => `"${c}"`).join(', ')}` });
    return undefined;
  }
  const comparator = cmp as Comparator;
  const hasValue = 'value' in node;
  const value = node['value'];
  const problem = valueProblem(comparator, hasValue, value);
  if (problem) issues.push({ path: `${path}.value`, message: problem });
  const hasFlags = 'flags' in node;
  const flags = node['flags'];
  if (hasFlags && comparator !== 'matches') issues.push({ path: `${path}.flags`, message: 'only a "matches" comparison takes flags' });
  else if (hasFlags && flags !== 'i') issues.push({ path: `${path}.flags`, message: 'must be "i" (case-insensitive) or left out' });
  else if (!problem && comparator === 'matches') {
    const unsafe = patternProblem(value as string, hasFlags ? 'i' : undefined);
    if (unsafe) issues.push({ path: `${path}.value`, message: `the pattern ${unsafe.message} (at pattern offset ${unsafe.offset})` });
  }
  if (issues.length > before) return undefined;
  const filter: PropertyFilter = { key: key as string, cmp: comparator };
  if (comparator !== 'exists') filter.value = Array.isArray(value) ? [...(value as Scalar[])] : (value as Scalar);
  if (hasFlags) filter.flags = 'i';
  return filter;
}

function valueProblem(cmp: Comparator, hasValue: boolean, value: unknown): string | undefined {
  const tooLong = (v: unknown) => typeof v === 'string' && v.length > Limits.maxStringLength;
  if (cmp === 'exists') return hasValue ? '"exists" takes no value' : undefined;
  if (!hasValue) return `"${cmp}" needs a value`;
  if (cmp === 'in') {
    if (!Array.isArray(value)) return '"in" needs a list of strings, numbers, booleans or null';
    if (value.length > Limits.maxListLength) return `a list may hold at most ${Limits.maxListLength} values`;
    const bad = value.findIndex((v) => !isScalar(v) || tooLong(v));
    return bad >= 0
      ? `item ${bad} must be a string (at most ${Limits.maxStringLength} characters), a finite number, a boolean or null`
      : undefined;
  }
  if (tooLong(value)) return `a string may have at most ${Limits.maxStringLength} characters`;
  switch (cmp) {
    case '=':
    case '!=':
      return isScalar(value) ? undefined : `"${cmp}" needs a string, a finite number, a boolean or null`;
    case '<':
    case '<=':
    case '>':
    case '>=':
      return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
        ? undefined
        : `"${cmp}" needs a finite number or a string`;
    case 'contains':
      return isScalar(value) && value !== null ? undefined : '"contains" needs a string, a finite number or a boolean';
    case 'starts_with':
      return typeof value === 'string' ? undefined : '"starts_with" needs a string';
    case 'matches':
      return typeof value === 'string' ? undefined : '"matches" needs a regular expression as a string';
  }
}
