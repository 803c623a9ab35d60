import type { Condition, Duration, PropertyFilter, Scalar } from './ast';

/** Quotes a string so that the tokenizer reads back exactly the same characters. */
export function quote(s: string): string {
  let out = "'";
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

function literal(v: Scalar): string {
  if (typeof v === 'string') return quote(v);
  // String(-0) is "0"; keep the sign so that the text round-trips exactly.
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}

/** Prints an AST in the canonical text form; parseSegment(printSegment(x)) deep-equals x. */
export function printSegment(condition: Condition): string {
  switch (condition.op) {
    case 'and':
    case 'or':
      return condition.of
        .map((c) => (c.op === 'and' || c.op === 'or' ? `(${printSegment(c)})` : printSegment(c)))
        .join(` ${condition.op} `);
    case 'not': {
      const inner = printSegment(condition.of);
      return condition.of.op === 'and' || condition.of.op === 'or' ? `not (${inner})` : `not ${inner}`;
    }
    case 'trait':
      return printComparison(`trait(${quote(condition.key)})`, condition);
    case 'computed':
      return printComparison(`computed(${quote(condition.key)})`, condition);
    case 'event': {
      const where = condition.where
        ? `.where(${condition.where.map((f) => printComparison(`property(${quote(f.key)})`, f)).join(' and ')})`
        : '';
      const within = condition.within ? `.within(${printDuration(condition.within)})` : '';
      const between = condition.between
        ? `.between(${printDuration(condition.between.from)} ago, ${printDuration(condition.between.to)} ago)`
        : '';
      return `event(${quote(condition.name)})${where}${within}${between}.count() ${condition.count.cmp} ${condition.count.value}`;
    }
    case 'segment':
      return `segment(${quote(condition.segment)})`;
    case 'consent':
      return `consent(${quote(condition.category)})`;
  }
}

/** `1 hour`, `2 hours`: the parser reads either form. */
const printDuration = (d: Duration): string => `${d.amount} ${d.amount === 1 ? d.unit.slice(0, -1) : d.unit}`;

function printComparison(head: string, c: PropertyFilter): string {
  if (c.cmp === 'exists') return `${head} exists`;
  if (c.cmp === 'matches') return `${head} matches ${literal(c.value as Scalar)}${c.flags ? ` flags ${quote(c.flags)}` : ''}`;
  const v = c.value;
  const rhs = Array.isArray(v) ? `[${v.map(literal).join(', ')}]` : literal(v ?? null);
  return `${head} ${c.cmp} ${rhs}`;
}
