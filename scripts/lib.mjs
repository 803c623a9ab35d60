// Small helpers shared by the root scripts (start, stop, test). Plain Node, no dependencies.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..');
/** The services' ports are CDP_PORT_BASE + 1 to + 5 (3001 to 3005), so a second `npm start` can sit beside the first. */
const portBase = Number(process.env.CDP_PORT_BASE || 3000);
if (!Number.isInteger(portBase) || portBase < 1 || portBase > 65_530) {
  console.error(`CDP_PORT_BASE must be a port number from 1 to 65530 (got ${JSON.stringify(process.env.CDP_PORT_BASE)})`);
  process.exit(2);
}
export const SERVICES = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'].map((name, i) => ({
  name,
  port: portBase + i + 1,
}));
export const stackHome = process.env.CDP_STACK_HOME || join(homedir(), '.cache', 'cdp-stack');
/** The stack's run folder, beside whose logs `npm start` keeps its own (a second stack, CDP_STACK_PORT_OFFSET, has its own). */
const stackOffset = Number(process.env.CDP_STACK_PORT_OFFSET || 0);
export const runDir = join(stackHome, stackOffset > 0 ? `run-${stackOffset}` : 'run');
/** Where a running `npm start` writes its pid, for `npm stop`. */
export const startPidFile = join(runDir, 'npm-start.pid');

/** Nx stays offline, prints plain lines and leaves no daemon behind. */
export const toolEnv = { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false', SCARF_ANALYTICS: 'false' };

/** Runs a command with inherited output; resolves with its exit code. */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: toolEnv, ...options });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(127));
  });
}

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
