import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/** Where the scanner is in a CSV record (RFC 4180 quoting, `,` between fields). */
type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

/** The next scanner state after `byte`. */
function next(state: State, byte: number): State {
  switch (state) {
    case 'fieldStart':
      return byte === QUOTE ? 'quoted' : byte === COMMA || byte === NEWLINE ? 'fieldStart' : 'unquoted';
    case 'unquoted':
      // A quote inside an unquoted field is the parser's to reject; it opens nothing.
      return byte === COMMA || byte === NEWLINE ? 'fieldStart' : 'unquoted';
    case 'quoted':
      return byte === QUOTE ? 'quoteInQuoted' : 'quoted';
    case 'quoteInQuoted':
      // `""` is an escaped quote; anything else closed the field.
      return byte === QUOTE ? 'quoted' : byte === COMMA || byte === NEWLINE ? 'fieldStart' : 'unquoted';
  }
}

/**
 * Keeps one unclosed quote from swallowing the rest of a CSV file. A CSV parser reads everything
 * after a stray `"` as one field, to the end of the file (`BR-10,"br10@x.io,DE` and then 30,000
 * good rows: one rejected record, the rows lost). This stream holds each record until it ends
 * outside quotes; one still inside a quoted field past `maxRecordBytes` at the end of a chunk (no
 * row that long can be imported) or at the end of the input is reported to `onUnclosed` by its first line, that line is
 * blanked (its line end kept, so line numbers stay right) and what followed it is scanned again.
 * Any other byte passes as it is: the parser judges it. Memory: about `maxRecordBytes` and a chunk.
 */
export function csvQuoteGuard(maxRecordBytes: number, onUnclosed: (line: number) => void): Transform {
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
      state = next(state, byte);
      if (byte !== NEWLINE) continue;
      line++;
      if (state !== 'fieldStart') continue; // a line end inside a quoted field
      // The record ended outside quotes: pass it on.
      out.push(...held, data.subarray(from, i + 1));
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
    onUnclosed(recordLine);
    state = 'fieldStart';
    const firstEnd = all.indexOf(NEWLINE);
    line = recordLine;
    if (firstEnd === -1) return; // the input ended on that line
    out.push(Buffer.from('\n'));
    line = recordLine + 1;
    recordLine = line;
    scan(all.subarray(firstEnd + 1), out);
  };

  /** Too much held: an open quote is a runaway; a long record outside quotes just passes on. */
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
      out.push(...held);
      done(null, Buffer.concat(out));
    },
  });
}
