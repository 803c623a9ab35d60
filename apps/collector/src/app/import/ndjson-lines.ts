import type { Readable } from 'node:stream';

export type NdjsonLine = { line: number; text: string } | { line: number; tooLong: true };

/**
 * The lines of a stream, numbered from 1, without their line ends (nor a byte order mark); blank
 * lines are skipped. A line longer than `maxLineBytes` is reported as such and not held in memory.
 */
export async function* ndjsonLines(stream: Readable, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  let line = 1;
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  const end = (): NdjsonLine | null => {
    const result: NdjsonLine | null = tooLong
      ? { line, tooLong: true }
      : size === 0
        ? null
        : { line, text: Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '') };
    // A UTF-8 byte order mark (editors on Windows write one) starts the first line, not its JSON.
    if (line === 1 && result && 'text' in result) result.text = result.text.replace(/^\uFEFF/, '');
    parts = [];
    size = 0;
    tooLong = false;
    return result && ('tooLong' in result || result.text.trim() !== '') ? result : null;
  };
  for await (const data of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = data.indexOf(0x0a, from); nl !== -1; nl = data.indexOf(0x0a, from)) {
      take(data.subarray(from, nl));
      const done = end();
      if (done) yield done;
      line++;
      from = nl + 1;
    }
    take(data.subarray(from));
  }
  const last = end();
  if (last) yield last;

  function take(piece: Buffer): void {
    if (tooLong || piece.length === 0) return;
    size += piece.length;
    if (size > maxLineBytes) {
      tooLong = true;
      parts = [];
    } else parts.push(piece);
  }
}
