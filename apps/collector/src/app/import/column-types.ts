/**
 * Types an import can give a trait column (`types=<column>:<type>,...`): a CSV cell is text, and
 * a trait compared as a number (`trait('ltv') > 100`) or a boolean matches nobody while it stays
 * text. `string` is the default. Pure.
 */
export type ColumnType = 'string' | 'number' | 'boolean';
export const COLUMN_TYPES: readonly ColumnType[] = ['string', 'number', 'boolean'];

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, y: true, n: false, '1': true, '0': false };

/** A trimmed cell (or NDJSON text) as its column's type, or why it is not one. */
export function typedValue(type: ColumnType, text: string): { ok: true; value: string | number | boolean } | { ok: false; reason: string } {
  if (type === 'string') return { ok: true, value: text };
  if (type === 'number') {
    const n = Number(text);
    return NUMBER.test(text) && Number.isFinite(n)
      ? { ok: true, value: n }
      : { ok: false, reason: `"${text.slice(0, 40)}" is not a number` };
  }
  const b = BOOLEANS[text.toLowerCase()];
  return b === undefined ? { ok: false, reason: `"${text.slice(0, 40)}" is not true or false (also yes/no, 1/0)` } : { ok: true, value: b };
}
