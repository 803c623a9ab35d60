import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Where the scanner is in a CSV record (RFC 4180 quoting, `,` between fields). `closed`: after a
 * quoted field's closing quote (only `,` or a line end may follow); `broken`: text followed it.
 */
type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted' | 'closed' | 'broken';

/** The next scanner state after `byte`. */
function next(state: State, byte: number): State {
  switch (state) {
    case 'fieldStart':
      return byte === QUOTE ? 'quoted' : byte === COMMA || byte === NEWLINE ? 'fieldStart' : 'unquoted';
    case 'unquoted':
      // A quote inside an unquoted field is the parser's to reject; it opens nothing.
      return byte === COMMA || byte === NEWLINE ? 'fieldStart' : 'unquoted';
    case 'broken':
      // The rest of the line goes with the broken record, quotes and all.
      return byte === NEWLINE ? 'fieldStart' : 'broken';
    case 'quoted':
      return byte === QUOTE ? 'quoteInQuoted' : 'quoted';
    case 'quoteInQuoted':
      // `""` is an escaped quote; anything else closed the field.
      return byte === QUOTE ? 'quoted' : afterClose(byte);
    case 'closed':
      return afterClose(byte);
  }
}

const afterClose = (byte: number): State => (byte === COMMA || byte === NEWLINE ? 'fieldStart' : byte === CR ? 'closed' : 'broken');

/** Why a record was left out. */
export type CsvQuoteProblem = 'unclosed' | 'textAfterClosingQuote';

/**
 * A record longer than this still inside quotes is taken for a stray quote, not a long note: far
 * over the 32 KB per-event limit, so no importable row is cut up.
 */
export const CSV_MAX_QUOTED_RECORD_BYTES = 1024 * 1024;

/** The rejected-row reasons of each problem, as the imports report them. */
export const CSV_QUOTE_PROBLEMS: Readonly<Record<CsvQuoteProblem, string>> = {
  unclosed: 'a quote opened on this line is not closed within 1 MB or by the end: the line is left out, the rows after it are read',
  textAfterClosingQuote: 'text follows a closing quote (e.g. "Smith" Jr): the row is left out, the rows after it are read',
};

/**
 * Keeps a misplaced quote from swallowing the rest of a CSV file. On a quote left open (`BR-10,"br10@x.io,DE`)
 * or text after a closing quote (`1,"Smith" Jr,DE`) a CSV parser reads on to the end of the file as one
 * field: one rejected record, every row after it lost. This stream holds each record until it ends
 * outside quotes and judges it first:
 * - still inside a quoted field past `maxRecordBytes` at the end of a chunk (no row that long can be
 *   imported) or at the end of the input: its first line is blanked and what followed is scanned again;
 * - text after a closing quote: the record's lines are blanked, up to the line end after that text.
 * Either is reported to `onProblem` by the record's first line; blanked lines keep their line ends, so
 * line numbers stay right. Any other byte passes as it is: the parser judges it. Memory: about
 * `maxRecordBytes` and a chunk.
 */
export function csvQuoteGuard(maxRecordBytes: number, onProblem: (line: number, problem: CsvQuoteProblem) => void): Transform {
  let state: State = 'fieldStart';
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** The file line being scanned, and the first line of the record held. */
  let line = 1;
  let recordLine = 1;
  /** A long record outside quotes passes through to its end instead of being held. */
  let passing = false;

  const scan = (data: Buffer, out: Buffer[]): void => {
    let from = 0;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i] as number;
      const before = state;
      state = next(state, byte);
      if (byte !== NEWLINE) continue;
      line++;
      if (state !== 'fieldStart') continue; // a line end inside a quoted field
      const record = [...held, data.subarray(from, i + 1)];
      if (before === 'broken' && !passing) {
        onProblem(recordLine, 'textAfterClosingQuote');
        out.push(Buffer.from('\n'.repeat(line - recordLine)));
      } else out.push(...record);
      held = [];
      heldBytes = 0;
      from = i + 1;
      recordLine = line;
      passing = false;
    }
    const rest = data.subarray(from);
    if (passing) out.push(rest);
    else {
      held.push(rest);
      heldBytes += rest.length;
    }
  };

  /** The held record's quote is unclosed: report and blank its first line, then scan what followed again. */
  const release = (out: Buffer[]): void => {
    const all = Buffer.concat(held);
    held = [];
    heldBytes = 0;
    onProblem(recordLine, 'unclosed');
    state = 'fieldStart';
    const firstEnd = all.indexOf(NEWLINE);
    line = recordLine;
    if (firstEnd === -1) return; // the input ended on that line
    out.push(Buffer.from('\n'));
    line = recordLine + 1;
    recordLine = line;
    scan(all.subarray(firstEnd + 1), out);
  };

  /** Too much held: an open quote is a runaway; any other long record just passes on. */
  const bound = (out: Buffer[]): void => {
    while (heldBytes > maxRecordBytes) {
      if (state === 'quoted') release(out);
      else {
        out.push(...held);
        held = [];
        heldBytes = 0;
        passing = true;
      }
    }
  };

  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      const out: Buffer[] = [];
      scan(chunk, out);
      bound(out);
      done(null, Buffer.concat(out));
    },
    flush(done: TransformCallback) {
      const out: Buffer[] = [];
      // Only `quoted` is open: `quoteInQuoted` at the end closed the last field.
      while (heldBytes > 0 && state === 'quoted') {
        release(out);
        bound(out);
      }
      if (state === 'broken' && heldBytes > 0) onProblem(recordLine, 'textAfterClosingQuote');
      else out.push(...held);
      done(null, Buffer.concat(out));
    },
  });
}
