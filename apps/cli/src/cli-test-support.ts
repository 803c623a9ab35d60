import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ApiRequest, ApiResponse } from './http';
import { runCli } from './program';

/** What a test run of the CLI did: the requests it would send, what it printed, its exit code. */
export interface CliRun {
  code: number;
  sent: ApiRequest[];
  out: string;
  err: string;
}

export interface CliRunOptions {
  env?: Record<string, string>;
  /** The answer to every request [200 {ok: true}]. */
  answer?: ApiResponse;
  /** Files the CLI may read, by path; any other path fails like a missing file. */
  files?: Record<string, string>;
}

/** Runs the CLI in-process with a recording transport (for the unit tests; no network, no files). */
export async function runWithFakes(argv: string[], opts: CliRunOptions = {}, defaultEnv: Record<string, string> = {}): Promise<CliRun> {
  const sent: ApiRequest[] = [];
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    transport: async (request) => {
      sent.push(request);
      return opts.answer ?? { status: 200, body: { ok: true } };
    },
    env: opts.env ?? defaultEnv,
    out: (t) => (out += t),
    err: (t) => (err += t),
    readFile: async (path) => {
      const text = opts.files?.[path];
      if (text === undefined) throw new Error('ENOENT: no such file');
      return text;
    },
  });
  return { code, sent, out, err };
}

/** The repository root (bin/cdp.mjs lives there). */
export const repoRoot = join(__dirname, '..', '..', '..');

/**
 * Runs the real `cdp` (bin/cdp.mjs, which builds apps/cli if needed) with only the given CDP_*
 * variables (none from the caller's shell), for the integration tests.
 */
export function runCdp(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDP_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'cdp.mjs'), ...args],
      { env: { ...base, ...env }, timeout: 180_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
