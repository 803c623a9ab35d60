#!/usr/bin/env node
// The `cdp` command: builds apps/cli with Nx when dist/apps/cli/main.js is missing or older
// than its sources, then runs it with the same arguments. Build output goes to stderr so that
// `--json` answers on stdout stay clean.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'apps', 'cli', 'main.js');
const sources = join(root, 'apps', 'cli');

/** Newest modification time of the CLI's sources and build configuration. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (!/\.(spec|integration-spec)\.ts$/.test(entry.name) && !entry.name.endsWith('.md'))
      latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

if (!existsSync(main) || statSync(main).mtimeMs < newest(sources)) {
  process.stderr.write('cdp: building the CLI (apps/cli)...\n');
  const nx = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'nx.cmd' : 'nx');
  const build = spawnSync(nx, ['run', 'cli:build'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' },
  });
  if (build.status !== 0 || !existsSync(main)) {
    process.stderr.write(`cdp: building the CLI failed (${build.error?.message ?? `exit ${build.status}`})\n`);
    process.exit(1);
  }
}

// `npm run cdp` runs in the repository root; relative paths (`import crm.csv`, `-f rules.json`)
// are the user's, from the directory npm was started in (INIT_CWD).
const from = process.env.INIT_CWD && existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
const run = spawnSync(process.execPath, [main, ...process.argv.slice(2)], { stdio: 'inherit', cwd: from });
if (run.error) {
  process.stderr.write(`cdp: ${run.error.message}\n`);
  process.exit(1);
}
process.exit(run.status ?? 1);
