// `npm stop`: stops a running `npm start` of this stack (CDP_STACK_PORT_OFFSET) as Ctrl-C in its
// terminal would: the five services, and the local stack when that start brought it up. Waits
// until it has finished.
import { readFileSync, rmSync } from 'node:fs';
import { startPidFile } from './lib.mjs';

/** The pid of the `npm start` that wrote the file, if it still runs (not a process that took the pid over). */
function runningStart() {
  let pid;
  try {
    pid = Number(readFileSync(startPidFile, 'utf8'));
  } catch {
    return null;
  }
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('scripts/start.mjs')) throw new Error('another process');
    return pid;
  } catch {
    rmSync(startPidFile, { force: true });
    return null;
  }
}

const pid = runningStart();
if (pid === null) {
  console.log('npm start is not running (the local stack alone stops with npm run stack:down)');
  process.exit(0);
}
process.kill(pid, 'SIGTERM');
console.log(`stopping npm start (pid ${pid})...`);
const deadline = Date.now() + 60_000;
while (runningStart() === pid) {
  if (Date.now() > deadline) {
    console.error(`npm start (pid ${pid}) is still running after 60 s`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
console.log('stopped');
