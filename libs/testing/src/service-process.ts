import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for';

export interface RunningService {
  name: string;
  url: string;
  output: () => string;
  stop: () => Promise<void>;
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
export async function startService(name: string, port: number, env: Record<string, string>): Promise<RunningService> {
  const main = join(workspaceRoot(), 'dist', 'apps', name, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx nx run-many -t build)`);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
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
      60_000,
      200,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${name} output ---\n${output}`);
  }
  return {
    name,
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
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
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`);
  }
}
