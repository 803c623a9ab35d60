// `npm start`: the whole platform on one machine. Uses KAFKA_BROKERS, SCHEMA_REGISTRY_URL and
// MONGO_URL when they point at reachable servers, otherwise starts the local stack; builds and
// runs the five services; Ctrl-C (or `npm stop`) stops everything this command started.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, run, runDir, SERVICES, startPidFile, toolEnv } from './lib.mjs';

const logDir = join(runDir, 'logs');
mkdirSync(logDir, { recursive: true });
writeFileSync(startPidFile, String(process.pid));
const stackWasUp = spawnSync('bash', ['deploy/local/stack.sh', 'status'], { cwd: root, stdio: 'ignore', env: toolEnv }).status === 0;
const children = [];
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping services...');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          // Killed by a signal, a child has no exit code but a signal code; either way it is gone.
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => (clearTimeout(timer), resolve()));
          child.kill('SIGTERM');
        }),
    ),
  );
  if (!stackWasUp) await run('bash', ['deploy/local/stack.sh', 'down']);
  rmSync(startPidFile, { force: true });
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

if ((await run('bash', ['deploy/local/stack.sh', 'up'])) !== 0) {
  console.error('the local stack did not start; see the logs above');
  await stop(1);
}
// The addresses the stack settled on: a variable that points at an unreachable server was
// replaced by the local part started in its place.
const endpoints = Object.fromEntries(
  spawnSync('bash', ['deploy/local/stack.sh', 'env'], { cwd: root, encoding: 'utf8', env: toolEnv })
    .stdout.split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
if ((await run('npx', ['nx', 'run-many', '-t', 'build', '--parallel=2', `--projects=${SERVICES.map((s) => s.name).join(',')}`])) !== 0) {
  console.error('build failed');
  await stop(1);
}

/** Restarts of a service that was ready, within RESTART_WINDOW_MS, before npm start gives up (as a crash-looping pod would). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10 * 60_000;
let allReady = false;

/** Runs a service; one that dies once everything was ready is started again, anything else stops all. */
function launch(entry) {
  const { name, port } = entry;
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', name, 'main.js')], {
    cwd: root,
    env: { ...process.env, ...endpoints, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  entry.child = child;
  child.on('exit', (code, signal) => {
    if (stopping) return;
    const where = `see ${join(logDir, `${name}.log`)}`;
    entry.restarts = entry.restarts.filter((t) => Date.now() - t < RESTART_WINDOW_MS);
    if (allReady && entry.restarts.length < MAX_RESTARTS) {
      entry.restarts.push(Date.now());
      console.error(`${name} exited (${code ?? signal}); restarting it (${entry.restarts.length} of ${MAX_RESTARTS} in 10 min); ${where}`);
      launch(entry);
      return;
    }
    console.error(`${name} exited (${code ?? signal}); stopping everything; ${where}`);
    void stop(1);
  });
}

for (const { name, port } of SERVICES) {
  const entry = { name, port, child: undefined, restarts: [] };
  children.push(entry);
  launch(entry);
}

const deadline = Date.now() + 120_000;
for (const { name, port } of SERVICES) {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || stopping) {
      console.error(`${name} did not become ready; see ${join(logDir, `${name}.log`)}`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
allReady = true;

/** The database the services use: the URL's path, `cdp` without one (as databaseName of @cdp/platform). */
function databaseOf(mongoUrl) {
  const match = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]*)/.exec(mongoUrl ?? '');
  return match?.[1] ? decodeURIComponent(match[1]) : 'cdp';
}

/** The URL with its user info masked: the banner is often pasted into chats and tickets. */
const withoutPassword = (url) => String(url).replace(/\/\/[^/@]*@/, '//***@');

const writeKey = process.env.CDP_DEMO_WRITE_KEY || 'dev-write-key';
const apiKey = process.env.CDP_DEMO_API_KEY || 'dev-api-key';
const url = Object.fromEntries(SERVICES.map(({ name, port }) => [name, `http://localhost:${port}`]));
console.log(`
CDP is running (Ctrl-C or \`npm stop\` stops it).
  collector          ${url.collector}   POST /v1/identify|track|page|screen|group|alias|batch|import
  normalizer         ${url.normalizer}
  identity-resolver  ${url['identity-resolver']}   GET  /v1/identities/{type:value}
  profile-store      ${url['profile-store']}   GET  /v1/profiles/{id or type:value}   docs: /docs
  segmenter          ${url.segmenter}   POST /v1/segments   docs: /docs
  every service:     /health/live  /health/ready  /metrics
  workspace: demo    write key: ${writeKey}    API key: ${apiKey}
  admin API:         ${process.env.CDP_ADMIN_TOKEN ? 'on (CDP_ADMIN_TOKEN)' : 'off: set CDP_ADMIN_TOKEN (16+ characters) before npm start to create workspaces'}
  KAFKA_BROKERS=${endpoints.KAFKA_BROKERS}  SCHEMA_REGISTRY_URL=${endpoints.SCHEMA_REGISTRY_URL}
  MONGO_URL=${withoutPassword(endpoints.MONGO_URL)}   database: ${databaseOf(endpoints.MONGO_URL)}
  service logs:      ${logDir}

Try:
  curl -u ${writeKey}: -H 'content-type: application/json' \\
    -d '{"userId":"42","traits":{"email":"Jane@Example.com","country":"DE"}}' ${url.collector}/v1/identify
  curl -H 'authorization: Bearer ${apiKey}' ${url['profile-store']}/v1/profiles/email:jane@example.com
`);
