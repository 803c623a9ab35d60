import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for';

export interface RunningService<N extends string = string> {
  name: N;
  url: string;
  output: () => string;
  /** Still the process we started (a crash must not hide behind a restarted port). */
  alive: () => boolean;
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** How much of the output is kept (its end): enough for a failure message by default. */
  keepOutputChars?: number;
}

const workspaceRoot = (): string => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nx.json'))) dir = join(dir, '..');
  return dir;
};

/**
 * Runs a built service (dist/apps/<name>/main.js) as a real process and waits until
 * /health/ready answers 200. Output is kept for the failure message.
 */
export async function startService<N extends string>(
  name: N,
  port: number,
  env: Record<string, string>,
  { keepOutputChars = 20_000 }: StartOptions = {},
): Promise<RunningService<N>> {
  const main = join(workspaceRoot(), 'dist', 'apps', name, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx nx run-many -t build)`);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-keepOutputChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // If the test process ends first (a failure, forceExit), the service must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
        const res = await fetch(`${url}/health/ready`);
        return res.ok;
      },
      `${name} to be ready`,
      90_000,
      200,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${name} output ---\n${output.slice(-20_000)}`);
  }
  return {
    name,
    url,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts the services on consecutive ports after `portBase`, all or none: when one fails to
 * start, the others are stopped again, so no process outlives the test.
 */
export async function startServices<N extends string>(
  names: readonly N[],
  portBase: number,
  env: Record<string, string>,
  options?: StartOptions,
): Promise<Record<N, RunningService<N>>> {
  const started = await Promise.allSettled(names.map((name, i) => startService(name, portBase + i + 1, env, options)));
  const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((s) => s.stop()));
    throw failed.reason;
  }
  return Object.fromEntries(running.map((s) => [s.name, s])) as Record<N, RunningService<N>>;
}

/** Runs a test body; on failure, the message also carries each service's recent warnings and errors. */
export async function withServiceLogs(services: () => RunningService[], run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    const logs = services()
      .map((s) => {
        const lines = s
          .output()
          .split('\n')
          .filter((l) => !l.includes('"level":30'))
          .slice(-20);
        return `--- ${s.name} ---\n${lines.join('\n')}`;
      })
      .join('\n');
    // fast-check 4 keeps the failing assertion in `cause`, not in its message.
    const cause = e instanceof Error && e.cause instanceof Error ? `\nCaused by: ${e.cause.message}` : '';
    throw new Error(`${e instanceof Error ? e.message : String(e)}${cause}\n${logs}`);
  }
}
