import Ajv from 'ajv';
import fc from 'fast-check';
import { SEGMENT_DEFINITION_SCHEMA } from './json-schema';
import { patternProblem } from '@cdp/safe-regex';
import { validateDefinition } from './validate';
import { condition } from './test-arbitraries';

const schema = new Ajv({ allErrors: true, strict: false }).compile(SEGMENT_DEFINITION_SCHEMA);

/** Replaces (or deletes) one field or list item somewhere in a JSON tree, chosen by `pick`. */
function mutate(node: unknown, pick: number, replacement: unknown, remove: boolean): unknown {
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const collect = (n: unknown) => {
    if (Array.isArray(n)) n.forEach((v, i) => (slots.push({ parent: n, key: i }), collect(v)));
    else if (typeof n === 'object' && n !== null)
      for (const [k, v] of Object.entries(n)) {
        slots.push({ parent: n as Record<string, unknown>, key: k });
        collect(v);
      }
  };
  const copy = JSON.parse(JSON.stringify(node)) as unknown;
  collect(copy);
  const slot = slots[pick % Math.max(1, slots.length)];
  if (!slot) return replacement;
  if (remove && Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
  else if (remove) delete (slot.parent as Record<string, unknown>)[slot.key as string];
  else (slot.parent as Record<string, unknown>)[slot.key as string] = replacement;
  return copy;
}

const UNIT_MS: Record<string, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };
const ms = (d: unknown): number | undefined => {
  const r = d as { amount?: unknown; unit?: unknown } | null;
  return typeof r?.amount === 'number' && typeof r.unit === 'string' ? r.amount * (UNIT_MS[r.unit] ?? NaN) : undefined;
};

/** Whether some `between` has `from` not longer ago than `to`: the one rule here that the validator adds to the schema. */
const betweenOutOfOrder = (n: unknown): boolean => {
  if (Array.isArray(n)) return n.some(betweenOutOfOrder);
  if (typeof n !== 'object' || n === null) return false;
  const b = (n as { between?: { from?: unknown; to?: unknown } }).between;
  const from = ms(b?.from);
  const to = ms(b?.to);
  return (from !== undefined && to !== undefined && from <= to) || Object.values(n).some(betweenOutOfOrder);
};

/** Whether some `matches` string pattern is refused by the safety check: a rule only the validator states. */
const unsafePattern = (n: unknown): boolean => {
  if (Array.isArray(n)) return n.some(unsafePattern);
  if (typeof n !== 'object' || n === null) return false;
  const r = n as { cmp?: unknown; value?: unknown; flags?: unknown };
  const flags = r.flags === 'i' ? 'i' : undefined;
  return (
    (r.cmp === 'matches' && typeof r.value === 'string' && patternProblem(r.value, flags) !== null) || Object.values(n).some(unsafePattern)
  );
};

describe('the JSON Schema of the AST', () => {
  it('accepts every generated definition', () => {
    fc.assert(fc.property(condition, (ast) => expect(schema(ast)).toBe(true)));
  });

  it('agrees with validateDefinition on mutated definitions, but for the rules a schema cannot state', () => {
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('and', 'event', 'consent', 'in', 'exists', 'matches', 'flags', 'i', '(a+)+', 'days', 0, 1, -1, 1.5, ''),
    );
    fc.assert(
      fc.property(condition, fc.nat(), replacement, fc.boolean(), (ast, pick, value, remove) => {
        const input = mutate(ast, pick, value, remove);
        const valid = validateDefinition(input).ok;
        if (valid) expect(schema(input)).toBe(true);
        else if (!betweenOutOfOrder(input) && !unsafePattern(input)) expect(schema(input)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves between order, depth and size to the validator', () => {
    const between = {
      op: 'event',
      name: 'A',
      between: { from: { amount: 1, unit: 'days' }, to: { amount: 2, unit: 'days' } },
      count: { cmp: '>=', value: 1 },
    };
    expect(schema(between)).toBe(true);
    expect(validateDefinition(between).ok).toBe(false);
    expect(schema({ ...between, within: { amount: 1, unit: 'days' } })).toBe(false);
  });

  it('states the shape of matches (a pattern string, flags only with matches) and leaves pattern safety to the validator', () => {
    const m = { op: 'trait', key: 'email', cmp: 'matches', value: '@acme\\.com$', flags: 'i' };
    expect(schema(m)).toBe(true);
    expect(schema({ ...m, flags: 'g' })).toBe(false);
    expect(schema({ ...m, value: 1 })).toBe(false);
    expect(schema({ ...m, cmp: '=' })).toBe(false);
    expect(schema({ ...m, value: '(a+)+' })).toBe(true);
    expect(validateDefinition({ ...m, value: '(a+)+' }).ok).toBe(false);
  });
});
