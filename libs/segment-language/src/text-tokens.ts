import type { Condition, WindowUnit } from './ast';

/** The tokenizer of the text form (text-parser.ts has the grammar) and its syntax errors. */

export interface ParseError {
  /** Character offset (0-based) in the text where the problem is. */
  offset: number;
  /** What the parser expected there. */
  expected: string;
  /** What it found instead. */
  found: string;
  message: string;
}

export type ParseResult = { ok: true; definition: Condition } | { ok: false; error: ParseError };

type TokenKind = 'word' | 'string' | 'number' | 'punct' | 'end';
export interface Token {
  kind: TokenKind;
  text: string;
  /** The decoded value of a string or number token. */
  value?: string | number;
  offset: number;
}

export class SyntaxFailure extends Error {
  constructor(readonly detail: ParseError) {
    super(detail.message);
  }
}

export const fail = (offset: number, expected: string, found: string): never => {
  throw new SyntaxFailure({ offset, expected, found, message: `at offset ${offset}: expected ${expected}, found ${found}` });
};

export const describe = (t: Token): string =>
  t.kind === 'end' ? 'the end of the text' : `'${t.text.length > 20 ? `${t.text.slice(0, 20)}...` : t.text}'`;

const PUNCT = ['<=', '>=', '!=', '=', '<', '>', '(', ')', '[', ']', ',', '.'];
/** Operators of other languages, and what this one says instead (`!=` is one of its own). */
const HABITS: [string, string][] = [
  ['==', "'=' (equality is a single '=')"],
  ['&&', "'and'"],
  ['||', "'or'"],
  ['!', "'not' (or '!=')"],
  // Word processors and chat tools curl quotes: the language quotes with straight ones.
  ['\u2018', 'a straight quote (\' or ")'],
  ['\u2019', 'a straight quote (\' or ")'],
  ['\u201C', 'a straight quote (\' or ")'],
  ['\u201D', 'a straight quote (\' or ")'],
];
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'string', text: text.slice(i, end), value, offset: i });
      i = end;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num && (c === '-' || /\d/.test(c))) {
      tokens.push({ kind: 'number', text: num[0], value: Number(num[0]), offset: i });
      i += num[0].length;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], offset: i });
      i += word[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => text.startsWith(p, i));
    const habit = HABITS.find(([h]) => text.startsWith(h, i) && !(punct && punct.length > h.length));
    if (habit) fail(i, habit[1], `'${habit[0]}'`);
    if (!punct) fail(i, 'a condition, a value or punctuation', `'${c}'`);
    tokens.push({ kind: 'punct', text: punct as string, offset: i });
    i += (punct as string).length;
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

export const UNITS: Record<string, WindowUnit> = {
  minute: 'minutes',
  minutes: 'minutes',
  hour: 'hours',
  hours: 'hours',
  day: 'days',
  days: 'days',
};

const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t' };

function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === quote) return { value: out, end: i + 1 };
    if (c === '\\') {
      const e = text[i + 1];
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      const mapped = e === undefined ? undefined : ESCAPES[e];
      if (mapped === undefined)
        fail(i, `an escape (\\\\, \\', \\", \\n, \\r, \\t or \\uXXXX)`, e === undefined ? 'the end of the text' : `'\\${e}'`);
      out += mapped;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  return fail(text.length, `a closing ${quote} for the string that starts at offset ${start}`, 'the end of the text');
}
