import { Readable } from 'node:stream';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { CliError } from './http';
import { registerImportCommand, runImport, type ImportOptions } from './import';
import type { ChunkRequest, ChunkResponse } from './import-transport';

/**
 * `cdp import` against a fake collector that answers like the real one: it parses each part,
 * rejects rows without an id, and reports lines shifted by the part's lineOffset. So the tests
 * check that parts cut anywhere still name the file's own lines.
 */
function fakeCollector(opts: { failFirst?: number; status?: number; message?: string } = {}) {
  const requests: ChunkRequest[] = [];
  const imported: string[] = [];
  let failures = opts.failFirst ?? 0;
  const send = async (request: ChunkRequest): Promise<ChunkResponse> => {
    requests.push(request);
    if (opts.status) return { status: opts.status, body: { message: opts.message ?? 'refused' } };
    if (failures-- > 0) return { status: 503, retryAfter: 3, body: { message: 'events could not be stored; retry later' } };
    const url = new URL(request.url);
    const offset = Number(url.searchParams.get('lineOffset'));
    const errors: { line: number; reason: string }[] = [];
    let rows = 0;
    if (url.pathname.endsWith('/csv')) {
      let lastSkipped = 0;
      const records = parse(request.body, {
        info: true,
        bom: true,
        skip_empty_lines: true,
        relax_column_count: true,
        skip_records_with_error: true,
        on_skip: (err) => {
          const line = (err as unknown as { lines: number }).lines;
          if (line !== lastSkipped) {
            rows++;
            errors.push({ line: line + offset, reason: err?.message ?? 'unreadable' });
          }
          lastSkipped = line;
        },
      }) as unknown as { record: string[]; info: { lines: number } }[];
      for (const { record, info } of records.slice(1)) {
        rows++;
        if (record[0]) imported.push(record.join('|'));
        else errors.push({ line: info.lines + offset, reason: 'no userId, anonymousId or email' });
      }
    } else {
      request.body
        .toString()
        .split('\n')
        .forEach((text, i) => {
          if (text.trim() === '') return;
          rows++;
          try {
            imported.push(String((JSON.parse(text) as { id: string }).id));
          } catch {
            errors.push({ line: i + 1 + offset, reason: 'not valid JSON' });
          }
        });
    }
    return { status: 200, body: { success: true, rows, imported: rows - errors.length, rejected: errors.length, errors } };
  };
  return { send, requests, imported };
}

const file = (text: string | Buffer, pieces = 7) => {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const size = Math.ceil(buf.length / pieces);
  const chunks = Array.from({ length: pieces }, (_, i) => buf.subarray(i * size, (i + 1) * size)).filter((c) => c.length > 0);
  return async () => ({ stream: Readable.from(chunks), size: buf.length });
};
const options = (format: 'csv' | 'ndjson', extra: Partial<ImportOptions> = {}): ImportOptions => ({
  collectorUrl: 'http://collector.test',
  credentials: { writeKey: 'wk_test' },
  format,
  chunkBytes: 60,
  concurrency: 2,
  retries: 3,
  ...extra,
});
const io = (errIsTty = true) => {
  const printed = { out: '', err: '' };
  return { printed, io: { env: {}, out: (t: string) => (printed.out += t), err: (t: string) => (printed.err += t), errIsTty } };
};

const CSV = [
  'Customer ID,Email,Note', // 1
  'c1,a@x.io,plain', // 2
  ',b@x.io,no id', // 3
  '', // 4 (blank)
  'c2,c@x.io,"two', // 5
  'lines"', // 6
  'c3,d@x.io,"bad "quote" here"', // 7: refused by the CLI's own parser
  ',e@x.io,no id either', // 8
  'c4,f@x.io,"three', // 9
  'line', // 10
  'note"', // 11
  ...Array.from({ length: 30 }, (_, i) => (i === 17 ? ',,' : `c${i + 5},g${i}@x.io,n${i}`)), // 12..41: line 29 has no id
].join('\n');

describe('runImport (CSV)', () => {
  it('posts the file in parts that each carry the header, and reports rejected rows by the line of the file', async () => {
    const collector = fakeCollector();
    const { io: cliIo, printed } = io();
    const summary = await runImport('crm.csv', options('csv'), cliIo, { send: collector.send, open: file(CSV) });
    expect(collector.requests.length).toBeGreaterThan(3);
    for (const r of collector.requests) {
      expect(r.body.toString().startsWith('Customer ID,Email,Note\n')).toBe(true);
      expect(r.url).toMatch(/^http:\/\/collector\.test\/v1\/import\/csv\?lineOffset=\d+$/);
      expect(r.headers).toEqual({ authorization: `Basic ${Buffer.from('wk_test:').toString('base64')}`, 'content-type': 'text/csv' });
    }
    expect(collector.imported).toContain('c2|c@x.io|two\nlines');
    expect(collector.imported).toContain('c4|f@x.io|three\nline\nnote');
    expect(new Set(collector.imported).size).toBe(collector.imported.length);
    expect(summary).toMatchObject({ rows: 36, imported: 32, rejected: 4 });
    expect(summary.errors.map((e) => e.line)).toEqual([3, 7, 8, 29]);
    expect(summary.errors[1]?.reason).toMatch(/quote/i);
    expect(printed.err).toMatch(/\r\[#{30}\] 100% 36 rows, \d+ rows\/s, 4 rejected\n$/);
  });

  it('prints whole progress lines, every 10 s, when stderr is no terminal (a log, a pipe)', async () => {
    let t = 0;
    const { io: logIo, printed } = io(false);
    // Each part takes 4 s: a line at 12 s and 24 s (not at every part), then the final one.
    const collector = fakeCollector();
    const send: typeof collector.send = async (request) => {
      t += 4_000;
      return collector.send(request);
    };
    await runImport('crm.csv', options('csv'), logIo, { send, open: file(CSV), now: () => t });
    const lines = printed.err.split('\n').filter(Boolean);
    expect(printed.err).not.toContain('\r');
    expect(printed.err.endsWith('\n')).toBe(true);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.length).toBeLessThan(collector.requests.length);
    expect(lines.at(-1)).toMatch(/^\[#{30}\] 100% 36 rows, \d+ rows\/s, 4 rejected$/);
  });

  it('retries a part the collector could not store yet, waiting as told, and passes the map, types and event along', async () => {
    const collector = fakeCollector({ failFirst: 2 });
    const waits: number[] = [];
    const summary = await runImport(
      'crm.csv',
      options('csv', { chunkBytes: 1_000_000, map: 'Note:traits.note', types: 'LTV:number', event: 'Order Completed' }),
      io().io,
      {
        send: collector.send,
        open: file(CSV),
        sleep: async (ms) => void waits.push(ms),
      },
    );
    expect(waits).toEqual([3_000, 3_000]);
    expect(collector.requests).toHaveLength(3);
    expect(new URL(collector.requests[0]?.url ?? '').searchParams.get('map')).toBe('Note:traits.note');
    expect(new URL(collector.requests[0]?.url ?? '').searchParams.get('types')).toBe('LTV:number');
    expect(new URL(collector.requests[0]?.url ?? '').searchParams.get('event')).toBe('Order Completed');
    expect(summary.imported).toBe(32);
  });

  it('stops at a part the collector refuses, with its message, and no bar that reads as done', async () => {
    const collector = fakeCollector({ status: 400, message: 'no column maps to userId, anonymousId or email' });
    const printed = io();
    await expect(runImport('crm.csv', options('csv'), printed.io, { send: collector.send, open: file(CSV) })).rejects.toThrow(
      new CliError(
        'import stopped at line 1: 400 no column maps to userId, anonymousId or email (0 rows imported so far; re-running the file is safe)',
      ),
    );
    // The first part was refused: no rows went in, so no bar (it would say 100% of a small file).
    expect(printed.printed.err).toBe('');
  });
});

describe('runImport (NDJSON)', () => {
  it('keeps line numbers across parts, refuses over-long lines locally, and streams the rest', async () => {
    const lines = Array.from({ length: 40 }, (_, i) =>
      i === 9 ? '{"id": ' : i === 20 ? '' : i === 30 ? `{"id":"long","x":"${'y'.repeat(1_100_000)}"}` : JSON.stringify({ id: `n${i + 1}` }),
    );
    const collector = fakeCollector();
    const summary = await runImport('people.ndjson', options('ndjson'), io().io, {
      send: collector.send,
      open: file(`${lines.join('\n')}\n`, 50),
    });
    expect(summary).toMatchObject({ rows: 39, imported: 37, rejected: 2 });
    expect(summary.errors).toEqual([
      { line: 10, reason: 'not valid JSON' },
      { line: 31, reason: 'line is over 1024 KB; not sent' },
    ]);
    expect(collector.imported).toEqual(lines.map((_, i) => `n${i + 1}`).filter((_, i) => ![9, 20, 30].includes(i)));
    expect(Math.max(...collector.requests.map((r) => r.body.length))).toBeLessThan(200);
  });
});

describe('registerImportCommand', () => {
  const program = (env: Record<string, string>, send = fakeCollector().send) => {
    const { io: base, printed } = io();
    const p = new Command('cdp').exitOverride().option('--json').option('--collector-url <url>').option('-w, --workspace <id>');
    registerImportCommand(p, { ...base, env }, { send, open: file(CSV) });
    return { p, printed };
  };

  it('imports with the write key from the environment and prints a summary with the rejected lines', async () => {
    const collector = fakeCollector();
    const { p, printed } = program({ CDP_WRITE_KEY: 'wk_env', CDP_COLLECTOR_URL: 'http://c.test:3001' }, collector.send);
    await p.parseAsync(['import', 'crm.csv'], { from: 'user' });
    expect(collector.requests[0]?.url).toMatch(/^http:\/\/c\.test:3001\/v1\/import\/csv\?/);
    expect(collector.requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('wk_env:').toString('base64')}`);
    expect(printed.out).toMatch(/^32 of 36 rows imported, 4 rejected, in \d+\.\d s \(\d+ rows\/s\)\nrejected rows:\n {2}line 3: no userId/);
    expect(printed.out).toContain('  line 29: no userId, anonymousId or email\n');
  });

  it('imports into a source named with --source using the API key, and refuses --source without one', async () => {
    const collector = fakeCollector();
    const { p } = program({ CDP_API_KEY: 'ak_admin' }, collector.send);
    await p.parseAsync(['import', 'crm.csv', '--source', 'CRM export'], { from: 'user' });
    expect(collector.requests[0]?.headers['authorization']).toBe('Bearer ak_admin');
    expect(new URL(collector.requests[0]?.url ?? '').searchParams.get('source')).toBe('CRM export');

    await expect(program({}).p.parseAsync(['import', 'crm.csv', '--source', 'crm'], { from: 'user' })).rejects.toThrow(
      '--source needs an API key with the admin scope',
    );
    await expect(
      program({ CDP_API_KEY: 'ak' }).p.parseAsync(['import', 'crm.csv', '--source', 'crm', '--write-key', 'wk'], { from: 'user' }),
    ).rejects.toThrow('pass --write-key or --source, not both');
    // An API key names its own workspace: --workspace would be silently ignored, so it is refused.
    await expect(
      program({ CDP_API_KEY: 'ak' }).p.parseAsync(['-w', 'ws_other', 'import', 'crm.csv', '--source', 'crm'], { from: 'user' }),
    ).rejects.toThrow('--workspace does not apply');
  });

  it('prints the whole summary as JSON with --json, and refuses to guess without a key or a format', async () => {
    const json = program({ CDP_WRITE_KEY: 'k' });
    await json.p.parseAsync(['--json', 'import', 'crm.csv', '--chunk-bytes', '100'], { from: 'user' });
    expect(JSON.parse(json.printed.out)).toMatchObject({ rows: 36, imported: 32, rejected: 4, errors: expect.any(Array) });

    await expect(program({}).p.parseAsync(['import', 'crm.csv'], { from: 'user' })).rejects.toThrow(
      'no write key: pass --write-key or set CDP_WRITE_KEY (or --source with an API key)',
    );
    await expect(program({ CDP_WRITE_KEY: 'k' }).p.parseAsync(['import', 'crm.txt'], { from: 'user' })).rejects.toThrow(
      'cannot tell the format of crm.txt: pass --format csv or --format ndjson',
    );
  });
});
