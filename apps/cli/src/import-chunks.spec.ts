import { Readable } from 'node:stream';
import fc from 'fast-check';
import { csvChunks, ndjsonChunks, type ChunkItem } from './import-chunks';

const collect = async (gen: AsyncGenerator<ChunkItem>): Promise<ChunkItem[]> => {
  const out: ChunkItem[] = [];
  for await (const item of gen) out.push(item);
  return out;
};
const streamOf = (buf: Buffer, piece: number) =>
  Readable.from(Array.from({ length: Math.ceil(buf.length / piece) }, (_, i) => buf.subarray(i * piece, (i + 1) * piece)));
const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

/** A CSV field: plain, or quoted with commas, doubled quotes and line breaks. */
const field = fc.oneof(
  fc.stringMatching(/^[a-z0-9 ]{0,6}$/),
  fc.stringMatching(/^[a-z,\n"]{0,6}$/).map((s) => `"${s.replace(/"/g, '""')}"`),
);
const csvFile = fc
  .tuple(fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([rows, eol, trailing]) => ['id,a,b', ...rows.map((r) => r.join(','))].join(eol) + (trailing ? eol : ''));

describe('csvChunks', () => {
  it('sends every byte after the header exactly once, each part behind the header, placed at its own line', async () => {
    await fc.assert(
      fc.asyncProperty(csvFile, fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 50 }), async (text, maxBytes, piece) => {
        const buf = Buffer.from(text);
        const items = await collect(csvChunks(streamOf(buf, piece), maxBytes));
        const header = text.slice(0, text.search(/\r?\n/) + (text.includes('\r\n') ? 2 : 1));
        let sent = '';
        for (const item of items) {
          if (!('chunk' in item)) throw new Error('csvChunks rejects nothing itself');
          const body = item.chunk.body.toString();
          expect(body.startsWith(header)).toBe(true);
          const part = body.slice(header.length);
          // The part starts at file line lineOffset + header lines + 1.
          expect(item.chunk.lineOffset + 2).toBe(lineAt(text, header.length + sent.length));
          sent += part;
        }
        const rest = text.includes('\n') ? text.slice(header.length) : '';
        // A part of blank lines only is not sent: it holds no row.
        const rows = (s: string) => s.replace(/[\r\n]+$/, '');
        expect(rows(sent)).toBe(rows(rest));
      }),
    );
  });
});

describe('csvChunks of an empty file', () => {
  it('refuses it: there is no header row', async () => {
    for (const text of ['', '\uFEFF', '\n\n'])
      await expect(collect(csvChunks(streamOf(Buffer.from(text), 4), 100))).rejects.toThrow('it holds no header row: the file is empty');
  });
});

describe('csvChunks with a quote left open', () => {
  it('leaves out that line alone, reports it, and sends every row after it', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => (i === 10 ? 'BR-11,"br11@example.com,DE' : `BR-${i + 1},br${i + 1}@example.com,DE`));
    const text = ['id,email,country', ...rows].join('\n') + '\n';
    const items = await collect(csvChunks(streamOf(Buffer.from(text), 97), 500, 2_000));
    expect(items.filter((i) => 'reject' in i)).toEqual([
      { reject: { line: 12, reason: expect.stringMatching(/^a quote opened on this line is not closed/) } },
    ]);
    const sent = items.flatMap((i) => ('chunk' in i ? [i.chunk.body.toString().split('\n').slice(1).join('\n')] : [])).join('');
    expect(sent).not.toContain('br11@');
    for (const n of [10, 12, 150, 300]) expect(sent).toContain(`BR-${n},br${n}@example.com,DE`);
  });
});

describe('ndjsonChunks', () => {
  it('sends every line once, in parts of whole lines placed at their line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[a-z{}":]{0,20}$/), { maxLength: 30 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        async (lines, maxBytes, piece) => {
          const text = lines.map((l) => `${l}\n`).join('');
          const items = await collect(ndjsonChunks(streamOf(Buffer.from(text), piece), maxBytes, 1_000));
          let sent = '';
          for (const item of items) {
            if (!('chunk' in item)) throw new Error('no line is too long here');
            expect(item.chunk.lineOffset).toBe(sent.split('\n').length - 1);
            sent += item.chunk.body.toString();
          }
          expect(sent).toBe(text);
        },
      ),
    );
  });
});
