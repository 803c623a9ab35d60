import {
  COUNT_COMPARATORS,
  Limits,
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
import { describe, fail, SyntaxFailure, tokenize, UNITS, type ParseResult, type Token } from './text-tokens';

/**
 * The text form of a definition, e.g.
 *   trait('country') = 'DE' and (trait('plan') in ['pro','team'] or not trait('age') < 18)
 *
 * Grammar (keywords are case-insensitive; `not` binds tighter than `and`, `and` tighter than `or`):
 *   expr    := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | '(' expr ')' | trait | computed | event | segment | consent
 *   trait   := 'trait' '(' string ')' compare
 *   computed := 'computed' '(' string ')' compare  -- a computed trait, e.g. computed('revenue') > 500
 *   compare := op literal | 'in' list | 'contains' literal | 'starts_with' string | 'exists'
 *            | 'matches' string ('flags' 'i')?  -- a regular expression (@cdp/safe-regex says which are accepted)
 *   event   := 'event' '(' string ')' ('.where' '(' filter ('and' filter)* ')' | '.within' '(' int unit ')'
 *                                     | '.between' '(' int unit 'ago' ',' int unit 'ago' ')')*
 *              ('.count' '(' ')' countop int)?        -- where at most once, within or between at most once;
 *                                                     -- between names the longer ago first; no count means >= 1
 *   filter  := 'property' '(' string ')' compare
 *   unit    := 'minutes' | 'hours' | 'days' (or the singular)
 *   countop := '>=' | '<=' | '=' | '>' | '<'
 *   segment := 'segment' '(' string ')'             -- a segment id or name
 *   consent := 'consent' '(' string ')'             -- a consent category, e.g. consent('marketing')
 *   op      := '=' | '!=' | '<' | '<=' | '>' | '>='
 *   list    := '[' (literal (',' literal)*)? ']'
 *   literal := string | number | 'true' | 'false' | 'null'
 *   string  := '...' with \\ \' \" \n \r \t \uXXXX escapes
 */
class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Condition {
    const condition = this.expr();
    const t = this.peek();
    if (t.kind !== 'end') fail(t.offset, "'and', 'or' or the end of the text", describe(t));
    return condition;
  }

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  private isWord(word: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text.toLowerCase() === word;
  }

  private expectPunct(p: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== p) fail(t.offset, `'${p}'`, describe(t));
  }

  private expr(): Condition {
    return this.chain('or', () => this.and());
  }

  private and(): Condition {
    return this.chain('and', () => this.unary());
  }

  private chain(op: 'and' | 'or', operand: () => Condition): Condition {
    const of = [operand()];
    while (this.isWord(op)) {
      this.next();
      of.push(operand());
    }
    return of.length === 1 ? (of[0] as Condition) : { op, of };
  }

  private unary(): Condition {
    const t = this.peek();
    if (++this.depth > Limits.maxDepth) fail(t.offset, `at most ${Limits.maxDepth} levels of nesting`, 'deeper nesting');
    try {
      if (this.isWord('not')) {
        this.next();
        return { op: 'not', of: this.unary() };
      }
      if (t.kind === 'punct' && t.text === '(') {
        this.next();
        const inner = this.expr();
        this.expectPunct(')');
        return inner;
      }
      if (this.isWord('trait')) {
        this.next();
        return { op: 'trait', ...this.comparison(this.quoted('the trait key')) };
      }
      if (this.isWord('computed')) {
        this.next();
        return { op: 'computed', ...this.comparison(this.quoted('the computed trait name')) };
      }
      if (this.isWord('event')) return this.event();
      if (this.isWord('segment')) {
        this.next();
        return { op: 'segment', segment: this.quoted('the segment id or name') };
      }
      if (this.isWord('consent')) {
        this.next();
        return { op: 'consent', category: this.quoted('the consent category') };
      }
      return fail(
        t.offset,
        "a condition: trait('...'), computed('...'), event('...'), segment('...'), consent('...'), 'not' or '('",
        describe(t),
      );
    } finally {
      this.depth--;
    }
  }

  /** `( 'string' )` with a length check; the decoded string. */
  private quoted(what: string): string {
    this.expectPunct('(');
    const t = this.next();
    if (t.kind !== 'string') fail(t.offset, `${what} as a quoted string`, describe(t));
    const v = t.value as string;
    if (v.length === 0 || v.length > Limits.maxKeyLength) fail(t.offset, `${what} of 1 to ${Limits.maxKeyLength} characters`, describe(t));
    this.expectPunct(')');
    return v;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private integer(what: string, min: number): number {
    const t = this.next();
    if (t.kind !== 'number' || !Number.isInteger(t.value) || (t.value as number) < min || (t.value as number) > Limits.maxCount)
      fail(t.offset, `${what}: an integer from ${min} to ${Limits.maxCount}`, describe(t));
    return t.value as number;
  }

  private event(): Condition {
    this.next();
    const condition: EventCondition = { op: 'event', name: this.quoted('the event name'), count: { cmp: '>=', value: 1 } };
    let where: PropertyFilter[] | undefined;
    let within: EventCondition['within'];
    let between: EventCondition['between'];
    while (this.isPunct('.')) {
      this.next();
      const m = this.next();
      const method = m.kind === 'word' ? m.text.toLowerCase() : '';
      if (method === 'where' && !where) {
        this.expectPunct('(');
        where = [this.filter()];
        while (this.isWord('and')) {
          this.next();
          if (where.length >= Limits.maxFilters) fail(this.peek().offset, `at most ${Limits.maxFilters} property filters`, 'more');
          where.push(this.filter());
        }
        if (this.isWord('or'))
          fail(this.peek().offset, "')' (filters in where are joined with 'and'; for either, join two event conditions with 'or')", "'or'");
        this.expectPunct(')');
      } else if (method === 'within' && !within && !between) {
        this.expectPunct('(');
        within = this.duration();
        this.expectPunct(')');
      } else if (method === 'between' && !within && !between) {
        this.expectPunct('(');
        const from = this.duration();
        this.ago();
        this.expectPunct(',');
        const at = this.peek();
        const to = this.duration();
        if (durationMs(to) >= durationMs(from))
          fail(at.offset, `a time nearer than the first (${from.amount} ${from.unit} ago): the longer ago comes first`, describe(at));
        this.ago();
        this.expectPunct(')');
        between = { from, to };
      } else if (method === 'count') {
        this.expectPunct('(');
        this.expectPunct(')');
        const op = this.next();
        if (op.kind !== 'punct' || !(COUNT_COMPARATORS as readonly string[]).includes(op.text))
          fail(op.offset, `a count comparison (${COUNT_COMPARATORS.join(', ')})`, describe(op));
        condition.count = { cmp: op.text as CountComparator, value: this.integer('the count', 0) };
        break;
      } else {
        const windowed = within || between;
        fail(m.offset, `${where ? '' : "'where', "}${windowed ? '' : "'within', 'between', "}or 'count'`, describe(m));
      }
    }
    // Canonical field order (name, where, within, between, count), so parse(print(x)) deep-equals x.
    return {
      op: 'event',
      name: condition.name,
      ...(where ? { where } : {}),
      ...(within ? { within } : {}),
      ...(between ? { between } : {}),
      count: condition.count,
    };
  }

  /** `N unit`, e.g. `30 days` (singular accepted). */
  private duration(): Duration {
    const amount = this.integer('the window length', 1);
    const u = this.next();
    const word = u.kind === 'word' ? u.text.toLowerCase() : '';
    // Own keys only: `constructor` must not read Object's.
    const unit = Object.hasOwn(UNITS, word) ? UNITS[word] : undefined;
    if (!unit) fail(u.offset, "a unit: 'minutes', 'hours' or 'days'", describe(u));
    return { amount, unit: unit as WindowUnit };
  }

  private ago(): void {
    const t = this.next();
    if (t.kind !== 'word' || t.text.toLowerCase() !== 'ago') fail(t.offset, "'ago'", describe(t));
  }

  private filter(): PropertyFilter {
    const t = this.next();
    if (t.kind !== 'word' || t.text.toLowerCase() !== 'property') fail(t.offset, "a property filter: property('...')", describe(t));
    return this.comparison(this.quoted('the property key'));
  }

  private comparison(key: string): PropertyFilter {
    const t = this.next();
    if (t.kind === 'punct' && ['=', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      const value = this.literal();
      if (t.text !== '=' && t.text !== '!=' && typeof value !== 'number' && typeof value !== 'string') {
        fail(this.tokens[this.pos - 1]?.offset ?? t.offset, `a number or a string after '${t.text}'`, `'${String(value)}'`);
      }
      return { key, cmp: t.text as Comparator, value };
    }
    const word = t.kind === 'word' ? t.text.toLowerCase() : '';
    if (word === 'exists') return { key, cmp: 'exists' };
    if (word === 'in') return { key, cmp: 'in', value: this.list() };
    if (word === 'contains') {
      const at = this.peek();
      const value = this.literal();
      if (value === null) fail(at.offset, "a string, number or boolean after 'contains'", "'null'");
      return { key, cmp: 'contains', value };
    }
    if (word === 'starts_with') {
      const s = this.next();
      if (s.kind !== 'string') fail(s.offset, "a quoted string after 'starts_with'", describe(s));
      return { key, cmp: 'starts_with', value: s.value as string };
    }
    if (word === 'matches') return this.matches(key);
    return fail(t.offset, 'a comparison (=, !=, <, <=, >, >=, in, contains, starts_with, exists, matches)', describe(t));
  }

  /** `'pattern' (flags 'i')?` after `matches`; refuses, at the pattern, one that is invalid or can backtrack badly. */
  private matches(key: string): PropertyFilter {
    const s = this.next();
    if (s.kind !== 'string') fail(s.offset, "a regular expression as a quoted string after 'matches'", describe(s));
    let flags: 'i' | undefined;
    if (this.isWord('flags')) {
      this.next();
      const f = this.next();
      if (f.kind !== 'string' || f.value !== 'i') fail(f.offset, "'i' (case-insensitive) after 'flags'", describe(f));
      flags = 'i';
    }
    const problem = patternProblem(s.value as string, flags);
    if (problem)
      fail(s.offset, `a safe regular expression (the pattern ${problem.message}, at pattern offset ${problem.offset})`, describe(s));
    return flags ? { key, cmp: 'matches', value: s.value as string, flags } : { key, cmp: 'matches', value: s.value as string };
  }

  private list(): Scalar[] {
    this.expectPunct('[');
    const values: Scalar[] = [];
    if (this.peek().kind === 'punct' && this.peek().text === ']') {
      this.next();
      return values;
    }
    for (;;) {
      values.push(this.literal());
      const t = this.next();
      if (t.kind === 'punct' && t.text === ']') return values;
      if (t.kind !== 'punct' || t.text !== ',') fail(t.offset, "',' or ']'", describe(t));
    }
  }

  private literal(): Scalar {
    const t = this.next();
    if (t.kind === 'string') {
      if ((t.value as string).length > Limits.maxStringLength)
        fail(t.offset, `a string of at most ${Limits.maxStringLength} characters`, 'a longer string');
      return t.value as string;
    }
    if (t.kind === 'number') {
      if (!Number.isFinite(t.value)) fail(t.offset, 'a finite number', describe(t));
      return t.value as number;
    }
    if (t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    return fail(t.offset, 'a value: a quoted string, a number, true, false or null', describe(t));
  }
}

/** Parses the text form into an AST, or says where (character offset) and what was expected. */
export function parseSegment(text: string): ParseResult {
  if (text.length > Limits.maxTextLength) {
    return {
      ok: false,
      error: {
        offset: Limits.maxTextLength,
        expected: `at most ${Limits.maxTextLength} characters`,
        found: 'a longer text',
        message: `the definition is longer than ${Limits.maxTextLength} characters`,
      },
    };
  }
  try {
    return { ok: true, definition: new Parser(tokenize(text)).parseAll() };
  } catch (e) {
    if (e instanceof SyntaxFailure) return { ok: false, error: e.detail };
    throw e;
  }
}
