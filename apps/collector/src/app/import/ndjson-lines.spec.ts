import { Readable } from 'node:stream';
import fc from 'fast-check';
import { ndjsonLines, type NdjsonLine } from './ndjson-lines';

const collect = async (chunks: Buffer[], max: number): Promise<NdjsonLine[]> => {
  const out: NdjsonLine[] = [];
  for await (const l of ndjsonLines(Readable.from(chunks), max)) out.push(l);
  return out;
};

/** Cuts a buffer at the given points (in any order, possibly inside a multi-byte character). */
const cut = (buf: Buffer, points: number[]): Buffer[] => {
  const bounds = [0, ...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b).concat(buf.length);
  return bounds.slice(1).map((end, i) => buf.subarray(bounds[i], end));
};

describe('ndjsonLines', () => {
  it('drops a byte order mark at the start of the first line only, with CRLF line ends too', async () => {
    expect(await collect([Buffer.from('\uFEFF{"a":1}\r\n\uFEFF{"b":2}\r\n')], 100)).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '\uFEFF{"b":2}' },
    ]);
  });

  it('yields the same numbered lines however the stream is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (lines, points) => {
          const text = lines.join('\n');
          const expected = lines
            .map((t, i) => ({ line: i + 1, text: (i === 0 ? t.replace(/^\uFEFF/, '') : t).replace(/\r$/, '') }))
            .filter((l) => l.text.trim() !== '' && !l.text.includes('\n'));
          if (lines.some((l) => l.includes('\n'))) return;
          const buf = Buffer.from(text);
          const chunks = cut(buf, points);
          expect(Buffer.concat(chunks).equals(buf)).toBe(true);
          expect(await collect(chunks, 1_000)).toEqual(expected);
        },
      ),
    );
  });

  it('reports an over-long line without keeping it, and goes on with the next', async () => {
    const out = await collect([Buffer.from('{"a":1}\r\n'), Buffer.from('x'.repeat(30)), Buffer.from('y'.repeat(30) + '\n\n{"b":2}')], 40);
    expect(out).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, tooLong: true },
      { line: 4, text: '{"b":2}' },
    ]);
  });
});
