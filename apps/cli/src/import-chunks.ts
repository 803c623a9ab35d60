import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse } from 'csv-parse';
import { CSV_MAX_QUOTED_RECORD_BYTES, CSV_QUOTE_PROBLEMS, csvQuoteGuard } from '@cdp/cleaning';

/**
 * Cuts a CSV or NDJSON file into parts the collector's import endpoints take whole, reading it
 * once in constant memory. Each part keeps the file's line numbering (blank padding lines, which
 * the collector skips, stand in for what is not sent; `lineOffset` places the part in the file),
 * so the collector's rejected-row report names lines of the file. Rows are not interpreted here:
 * the collector maps them, one mapping for every way in.
 */
export interface ImportChunk {
  body: Buffer;
  /** Added by the collector to the line numbers it reports for this part. */
  lineOffset: number;
  /** File bytes consumed so far (for the progress bar). */
  bytesRead: number;
}

/** A row refused before sending: an NDJSON line too long to hold, a CSV record with a misplaced quote. */
export interface LocalReject {
  line: number;
  reason: string;
}

export type ChunkItem = { chunk: ImportChunk } | { reject: LocalReject };

/** The stream through a counter of the bytes delivered, for progress (no 'data' listener: backpressure stays intact). */
function counted(input: Readable): { stream: Readable; bytes: () => number } {
  let bytes = 0;
  const counter = new Transform({
    transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      bytes += data.length;
      done(null, data);
    },
  });
  input.on('error', (e) => counter.destroy(e));
  return { stream: input.pipe(counter), bytes: () => bytes };
}

const newlines = (bytes: Buffer): number => {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
};

/**
 * CSV parts: the header row, then whole records (quoted fields may span lines) up to about
 * `maxBytes`, cut where the collector's own parser (same csv-parse options) ends a record. The
 * bytes go as they are in the file, bad records included: the collector rejects those itself,
 * so one parser decides. Line numbers are counted here, from the bytes.
 */
export async function* csvChunks(
  input: Readable,
  maxBytes: number,
  maxQuotedBytes = CSV_MAX_QUOTED_RECORD_BYTES,
): AsyncGenerator<ChunkItem> {
  // A misplaced quote would swallow every row after it (and hold the rest of the file here): that
  // record alone is left out, reported as the collector reports it.
  const rejects: LocalReject[] = [];
  const guard = csvQuoteGuard(maxQuotedBytes, (line, problem) => rejects.push({ line, reason: CSV_QUOTE_PROBLEMS[problem] }));
  // The bytes from the part's start on, as they passed to the parser (bounded by the part and the stream's buffers).
  let pending: Buffer[] = [];
  let pendingStart = 0;
  let total = 0;
  const keep = new Transform({
    transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      pending.push(data);
      total += data.length;
      done(null, data);
    },
  });
  input.on('error', (e) => guard.destroy(e));
  guard.on('error', (e) => keep.destroy(e));
  const parser = parse({ info: true, bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true });
  keep.on('error', (e) => parser.destroy(e));
  input.pipe(guard).pipe(keep).pipe(parser);

  /** Removes and returns the bytes [pendingStart, end). */
  const take = (end: number): Buffer => {
    const all = Buffer.concat(pending);
    const cut = all.subarray(0, end - pendingStart);
    pending = [all.subarray(end - pendingStart)];
    pendingStart = end;
    return Buffer.from(cut);
  };
  let header: Buffer | undefined;
  let headerLines = 0;
  let line = 1; // file line at pendingStart
  let recordEnd = 0;
  const part = (end: number): ChunkItem | null => {
    const body = take(end);
    const first = line;
    line += newlines(body);
    if (!header || /^[\r\n]*$/.test(body.toString('latin1'))) return null; // only blank lines left
    return { chunk: { body: Buffer.concat([header, body]), lineOffset: first - (headerLines + 1), bytesRead: total } };
  };

  for await (const item of parser as AsyncIterable<{ info: { bytes: number } }>) {
    for (const reject of rejects.splice(0)) yield { reject };
    recordEnd = item.info.bytes;
    if (!header) {
      header = take(recordEnd);
      headerLines = newlines(header);
      line += headerLines;
      continue;
    }
    if (recordEnd - pendingStart >= maxBytes) {
      const out = part(recordEnd);
      if (out) yield out;
    }
  }
  for (const reject of rejects.splice(0)) yield { reject };
  // Nothing to import, and nothing to name the columns by: an empty file (or a byte order mark alone) is a mistake.
  if (!header) throw new Error('it holds no header row: the file is empty');
  const last = part(total);
  if (last) yield last;
}

/**
 * NDJSON parts: whole lines up to about `maxBytes`. A line longer than `maxLineBytes` is not
 * held: it is refused here and an empty line takes its place.
 */
export async function* ndjsonChunks(input: Readable, maxBytes: number, maxLineBytes: number): AsyncGenerator<ChunkItem> {
  const source = counted(input);
  let parts: Buffer[] = [];
  let size = 0;
  let line = 1; // the line being read
  let firstLine = 1; // file line of the part's first line
  let current: Buffer[] = [];
  let currentSize = 0;
  let tooLong = false;

  const endLine = (): LocalReject | null => {
    const reject = tooLong ? { line, reason: `line is over ${Math.round(maxLineBytes / 1024)} KB; not sent` } : null;
    if (parts.length === 0) firstLine = line;
    if (!tooLong) parts.push(...current);
    parts.push(Buffer.from('\n'));
    size += (tooLong ? 0 : currentSize) + 1;
    current = [];
    currentSize = 0;
    tooLong = false;
    line++;
    return reject;
  };
  const flush = (): ChunkItem | null => {
    if (parts.length === 0) return null;
    const item = { chunk: { body: Buffer.concat(parts), lineOffset: firstLine - 1, bytesRead: source.bytes() } };
    parts = [];
    size = 0;
    return item;
  };
  const take = (piece: Buffer): void => {
    if (tooLong || piece.length === 0) return;
    currentSize += piece.length;
    if (currentSize > maxLineBytes) {
      tooLong = true;
      current = [];
    } else current.push(Buffer.from(piece));
  };

  for await (const data of source.stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = data.indexOf(0x0a, from); nl !== -1; nl = data.indexOf(0x0a, from)) {
      take(data.subarray(from, nl));
      const reject = endLine();
      if (reject) yield { reject };
      from = nl + 1;
      if (size >= maxBytes) {
        const out = flush();
        if (out) yield out;
      }
    }
    take(data.subarray(from));
  }
  if (currentSize > 0 || tooLong) {
    const reject = endLine();
    if (reject) yield { reject };
  }
  const last = flush();
  if (last) yield last;
}
