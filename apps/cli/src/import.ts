import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { CliError, serviceMessage } from './http';
import { csvChunks, ndjsonChunks, type ChunkItem, type ImportChunk, type LocalReject } from './import-chunks';
import { fetchChunkTransport, fileError, type ChunkTransport } from './import-transport';
import { resolveConfig, type GlobalFlags } from './requests';
import { columnTypes, eventName, positiveInt } from './arguments';

/** What `cdp import` needs from outside: the CLI's printing and env, and (for tests) a fake network, files and clock. */
export interface ImportIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `err` is a terminal: then the progress bar redraws in place, else it prints a line now and then. */
  errIsTty?: boolean;
}

export interface ImportDeps {
  send?: ChunkTransport;
  open?: (path: string) => Promise<{ stream: Readable; size: number }>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A source's write key, or an admin API key and the source (id or name) of its workspace to import into. */
export type ImportCredentials = { writeKey: string } | { apiKey: string; source: string };

export interface ImportOptions {
  collectorUrl: string;
  credentials: ImportCredentials;
  format: 'csv' | 'ndjson';
  map?: string;
  /** `<column>:<type>,...`: string (the default), number or boolean. */
  types?: string;
  /** Each row also a track of this name, with the `properties.<name>` columns. */
  event?: string;
  chunkBytes: number;
  concurrency: number;
  retries: number;
}

export interface ImportSummary {
  rows: number;
  imported: number;
  rejected: number;
  /** Every rejected row (the collector reports at most 1000 per part), sorted by line. */
  errors: LocalReject[];
  seconds: number;
  rowsPerSecond: number;
}

const MAX_LINE_BYTES = 1024 * 1024;
const PROGRESS_EVERY_MS = 500;
/** Progress lines in a log (a pipe, CI): one every so often, not a redraw every half second. */
const LOG_PROGRESS_EVERY_MS = 10_000;
const WRITE_KEY_ENV = 'CDP_WRITE_KEY';

interface PartReport {
  rows: number;
  imported: number;
  rejected: number;
  errors: LocalReject[];
}

const isReport = (v: unknown): v is PartReport =>
  typeof v === 'object' && v !== null && typeof (v as PartReport).rows === 'number' && Array.isArray((v as PartReport).errors);

const defaultOpen = async (path: string) => {
  try {
    const { size } = await stat(path);
    return { stream: createReadStream(path, { highWaterMark: 256 * 1024 }), size };
  } catch (e) {
    throw fileError(path, e);
  }
};

/**
 * Streams a file to the collector's import endpoint part by part (a few in flight), retrying parts
 * the collector could not store yet (503, 429, network: re-sending is safe, messageIds derive from
 * the rows), stopping at the first part it refuses. Prints a progress bar with rows/s on `err`.
 */
export async function runImport(path: string, options: ImportOptions, io: ImportIo, deps: ImportDeps = {}): Promise<ImportSummary> {
  const send = deps.send ?? fetchChunkTransport;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { stream, size } = await (deps.open ?? defaultOpen)(path);
  const started = now();
  const totals = { rows: 0, imported: 0, rejected: 0 };
  const errors: LocalReject[] = [];
  let bytesRead = 0;
  let lastProgress = 0;

  const tty = io.errIsTty === true;
  const progress = (final = false) => {
    const t = now();
    // The first line of a log waits too: a short import prints only its final line.
    if (!final && t - (tty ? lastProgress : Math.max(lastProgress, started)) < (tty ? PROGRESS_EVERY_MS : LOG_PROGRESS_EVERY_MS)) return;
    lastProgress = t;
    const seconds = Math.max((t - started) / 1000, 0.001);
    const share = size > 0 ? Math.min(bytesRead / size, 1) : 1;
    const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '-');
    const line = `[${bar}] ${Math.round(share * 100)}% ${totals.rows} rows, ${Math.round(totals.rows / seconds)} rows/s, ${totals.rejected} rejected`;
    io.err(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };

  const base = `${options.collectorUrl}/v1/import/${options.format}`;
  const { credentials } = options;
  const headers = {
    authorization:
      'writeKey' in credentials ? `Basic ${Buffer.from(`${credentials.writeKey}:`).toString('base64')}` : `Bearer ${credentials.apiKey}`,
    'content-type': options.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
  };
  const sendPart = async (chunk: ImportChunk): Promise<void> => {
    const query = new URLSearchParams({
      lineOffset: String(chunk.lineOffset),
      ...(options.map ? { map: options.map } : {}),
      ...(options.types ? { types: options.types } : {}),
      ...(options.event !== undefined ? { event: options.event } : {}),
      ...('source' in credentials ? { source: credentials.source } : {}),
    });
    for (let attempt = 0; ; attempt++) {
      const res = await send({ url: `${base}?${query}`, headers, body: chunk.body });
      if (res.status === 200 && isReport(res.body)) {
        totals.rows += res.body.rows;
        totals.imported += res.body.imported;
        totals.rejected += res.body.rejected;
        errors.push(...res.body.errors);
        return;
      }
      const retryable = res.status === 0 || res.status === 503 || res.status === 429 || res.status === 408;
      if (!retryable || attempt >= options.retries)
        throw new CliError(
          `import stopped at line ${chunk.lineOffset + 1}: ${res.status || 'no answer'} ${serviceMessage(res.body)} (${totals.imported} rows imported so far; re-running the file is safe)`,
        );
      await sleep(Math.min((res.retryAfter ?? 2 ** attempt) * 1000, 30_000));
    }
  };

  // A few parts in flight; the file is read only as fast as they are acknowledged.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const items: AsyncGenerator<ChunkItem> =
    options.format === 'csv' ? csvChunks(stream, options.chunkBytes) : ndjsonChunks(stream, options.chunkBytes, MAX_LINE_BYTES);
  try {
    for await (const item of items) {
      if (failure) break;
      if ('reject' in item) {
        totals.rows++;
        totals.rejected++;
        errors.push(item.reject);
        continue;
      }
      bytesRead = item.chunk.bytesRead;
      const part: Promise<void> = sendPart(item.chunk)
        .catch((e: unknown) => {
          failure ??= e;
        })
        .finally(() => {
          inFlight.delete(part);
          // Once a part is refused the bar stops: a "100% 0 rows" before the error would read as done.
          if (!failure) progress();
        });
      inFlight.add(part);
      if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    }
  } catch (e) {
    failure ??= e instanceof CliError ? e : new CliError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, 2);
  } finally {
    stream.destroy();
  }
  await Promise.all(inFlight);
  // A stopped import ends its bar's line as it is (the error follows on a line of its own): no final bar.
  if (failure) {
    if (tty && lastProgress > 0) io.err('\n');
    throw failure;
  }
  bytesRead = size;
  progress(true);
  const seconds = (now() - started) / 1000;
  errors.sort((a, b) => a.line - b.line);
  return { ...totals, errors, seconds, rowsPerSecond: Math.round(totals.rows / Math.max(seconds, 0.001)) };
}

const formatOf = (path: string, flag: string | undefined): 'csv' | 'ndjson' => {
  if (flag === 'csv' || flag === 'ndjson') return flag;
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(path)) return 'ndjson';
  throw new CliError(`cannot tell the format of ${path}: pass --format csv or --format ndjson`, 2);
};

/** Prints the summary and the rejected rows (all of them with --json, else the first 50). */
export function renderSummary(summary: ImportSummary, json: boolean): string {
  if (json) return `${JSON.stringify(summary, null, 2)}\n`;
  const lines = [
    `${summary.imported} of ${summary.rows} rows imported, ${summary.rejected} rejected, in ${summary.seconds.toFixed(1)} s (${summary.rowsPerSecond} rows/s)`,
  ];
  const shown = summary.errors.slice(0, 50);
  if (shown.length > 0) lines.push('rejected rows:', ...shown.map((e) => `  line ${e.line}: ${e.reason}`));
  if (summary.errors.length > shown.length) lines.push(`  ... and ${summary.errors.length - shown.length} more (--json lists them all)`);
  if (summary.rejected > summary.errors.length)
    lines.push(`  (${summary.rejected - summary.errors.length} more rejected rows were not itemized by the collector)`);
  return `${lines.join('\n')}\n`;
}

type ImportFlags = GlobalFlags & {
  json?: boolean;
  writeKey?: string;
  source?: string;
  format?: string;
  map?: string;
  types?: string;
  event?: string;
  chunkBytes: number;
  concurrency: number;
  retries: number;
};

/**
 * `cdp import <file>`: into the source of a write key (which names the source and its workspace,
 * as for every other write), or with `--source` into a source of the API key's workspace (an API
 * key with the admin scope).
 */
export function registerImportCommand(program: Command, io: ImportIo, deps: ImportDeps = {}): Command {
  return program
    .command('import')
    .description(
      'import a CSV or NDJSON file of customer records (each row an identify, and a track with --event), streamed in parts to the collector',
    )
    .argument('<file>', 'a .csv or .ndjson/.jsonl file, any size')
    .option('--write-key <key>', `write key of the source to import into (env ${WRITE_KEY_ENV})`)
    .option('--source <source>', 'or: the id or name of a source to import into, with an API key of its workspace with the admin scope')
    .addOption(new Option('--format <format>', 'file format [by the file name]').choices(['csv', 'ndjson']))
    .option(
      '--map <pairs>',
      'column mapping: <column>:<target>,... with targets userId, anonymousId, timestamp, email, traits.<name>, properties.<name> (the track, with --event), - (drop)',
    )
    .option(
      '--event <name>',
      "each row also a track of this name (e.g. 'Order Completed') carrying its properties.<name> columns",
      eventName,
    )
    .option(
      '--types <pairs>',
      'trait column types: <column>:<type>,... with types string (the default), number, boolean (yes/no, 1/0 too)',
      columnTypes,
    )
    .option('--chunk-bytes <n>', 'bytes per part posted to the collector', positiveInt, 1024 * 1024)
    .option('--concurrency <n>', 'parts in flight', positiveInt, 2)
    .option('--retries <n>', 'retries of a part the collector could not store yet (503/429)', positiveInt, 8)
    .addHelpText(
      'after',
      '\nColumns map by name (user_id, customer id, email, first name, phone, ...); other columns become traits.\n' +
        'Re-running the same file has no second effect (messageIds derive from the rows as mapped); with a corrected --map or --types it sets the corrected traits.',
    )
    .action(async (file: string, _opts: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ImportFlags>();
      const config = resolveConfig(flags, io.env);
      const summary = await runImport(
        file,
        {
          collectorUrl: config.collectorUrl,
          credentials: importCredentials(flags, config.apiKey, io.env),
          format: formatOf(file, flags.format),
          map: flags.map,
          types: flags.types,
          event: flags.event,
          chunkBytes: flags.chunkBytes,
          concurrency: flags.concurrency,
          retries: flags.retries,
        },
        io,
        deps,
      );
      io.out(renderSummary(summary, flags.json === true));
    });
}

function importCredentials(flags: ImportFlags, apiKey: string | undefined, env: Record<string, string | undefined>): ImportCredentials {
  // The key alone names the workspace: an import must not land elsewhere than the user asked.
  if (flags.workspace !== undefined)
    throw new CliError(
      "import writes into the workspace of its key (--write-key, or --source with that workspace's API key); --workspace does not apply",
      2,
    );
  if (flags.source !== undefined) {
    if (flags.writeKey !== undefined) throw new CliError('pass --write-key or --source, not both (a write key names its own source)', 2);
    if (!apiKey) throw new CliError('--source needs an API key with the admin scope: pass --api-key or set CDP_API_KEY', 2);
    return { apiKey, source: flags.source };
  }
  const writeKey = flags.writeKey ?? env[WRITE_KEY_ENV];
  if (!writeKey) throw new CliError(`no write key: pass --write-key or set ${WRITE_KEY_ENV} (or --source with an API key)`, 2);
  return { writeKey };
}
