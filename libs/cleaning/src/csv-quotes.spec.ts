import { Readable } from 'node:stream';
import fc from 'fast-check';
import { csvQuoteGuard } from './csv-quotes';

/** The guard's output for `text` cut into the given chunks, and the lines it reported. */
async function guard(text: string, cuts: number[], max: number): Promise<{ out: string; unclosed: number[] }> {
  const buf = Buffer.from(text);
  const bounds = [...new Set([0, ...cuts.map((c) => c % (buf.length + 1)), buf.length])].sort((a, b) => a - b);
  const chunks = bounds.slice(1).map((end, i) => buf.subarray(bounds[i], end));
  const unclosed: number[] = [];
  const parts: Buffer[] = [];
  for await (const part of Readable.from(chunks).pipe(
    csvQuoteGuard(max, (line, problem) => unclosed.push(problem === 'unclosed' ? line : -line)),
  ))
    parts.push(part as Buffer);
  return { out: Buffer.concat(parts).toString(), unclosed };
}

const plain = fc.stringMatching(/^[a-zA-Z0-9 @.é-]{0,12}$/);
/** A field as a CSV writer quotes it: commas, line ends and doubled quotes inside quotes. */
const quoted = fc.string({ maxLength: 12 }).map((s) => `"${s.replace(/"/g, '""')}"`);
const record = fc.array(fc.oneof(plain, quoted), { minLength: 1, maxLength: 5 }).map((fields) => fields.join(','));
const plainRecord = fc.array(plain, { minLength: 1, maxLength: 5 }).map((fields) => fields.join(','));

describe('csvQuoteGuard', () => {
  it('passes well-formed CSV through unchanged, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.boolean(),
        async (rows, cuts, crlf) => {
          const text = rows.join(crlf ? '\r\n' : '\n');
          expect(await guard(text, cuts, 200)).toEqual({ out: text, unclosed: [] });
        },
      ),
    );
  });

  it('blanks the line of a quote left open to the end or past the limit, and keeps every other line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 10 }),
        plain,
        fc.array(plainRecord, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (before, stray, after, cuts) => {
          const bad = `id-x,"${stray}`;
          const text = [...before, bad, ...after].join('\n');
          const { out, unclosed } = await guard(text, cuts, 200);
          const badLine = before.join('\n').split('\n').length + (before.length === 0 ? 0 : 1);
          expect(unclosed).toEqual([badLine]);
          const expected = text.split('\n');
          expected[badLine - 1] = '';
          expect(out).toBe(expected.join('\n'));
        },
      ),
    );
  });

  it('leaves out a record with text after a closing quote, to the end of that line, and reads the rows after it', async () => {
    // A parser would read `"Smith" Jr` as an invalid closing quote, then everything after it as one field.
    const text = 'id,name,c\n1,"Smith" Jr,DE\n2,"multi\nline" x,y\n3,ok,"DE" \r\n4,fine,"DE"\r\n5,last,x';
    expect(await guard(text, [9, 30], 200)).toEqual({ out: 'id,name,c\n\n\n\n\n4,fine,"DE"\r\n5,last,x', unclosed: [-2, -3, -5] });
  });

  it('keeps a quoted field that spans lines when it closes in time', async () => {
    const text = 'id,note\n1,"two\nlines, and a ""quote"""\n2,plain\n';
    expect(await guard(text, [5, 12], 64)).toEqual({ out: text, unclosed: [] });
    // The same record still open past the limit at a chunk's end (here every byte is a chunk) is taken for a
    // runaway: its first line goes, the rest is read as rows.
    expect(
      await guard(
        text,
        Array.from(text, (_, i) => i),
        10,
      ),
    ).toEqual({ out: 'id,note\n\nlines, and a ""quote"""\n2,plain\n', unclosed: [2] });
  });
});
