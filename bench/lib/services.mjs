import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SERVICES = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'];

export const endpoints = () => ({
  kafkaBrokers: process.env.KAFKA_BROKERS || 'localhost:9092',
  registryUrl: process.env.SCHEMA_REGISTRY_URL || 'http://localhost:8081/apis/ccompat/v7',
  mongoUrl: process.env.MONGO_URL || 'mongodb://localhost:27017/cdp',
});

const NX_ENV = { NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' };

function run(root, cmd, args, what) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, env: { ...process.env, ...NX_ENV }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`${what} failed (exit ${r.status}):\n${(r.stdout ?? '').slice(-3000)}\n${(r.stderr ?? '').slice(-3000)}`);
  return Date.now() - started;
}

/**
 * The local stack (idempotent) and the services built from source (all five, or `services`);
 * `serviceRoot` is where their dist/ is looked for (another build: nothing is built).
 */
export function prepare(root, { build = true, stack = true, services = SERVICES, serviceRoot = root, log }) {
  // An offset stack (CDP_STACK_PORT_OFFSET) is ours to start even though KAFKA_BROKERS names it.
  if (stack && (!process.env.KAFKA_BROKERS || process.env.CDP_STACK_PORT_OFFSET))
    log(`stack up in ${run(root, 'bash', ['deploy/local/stack.sh', 'up'], 'stack up')} ms`);
  if (build && serviceRoot === root)
    log(
      `build in ${run(root, 'npx', ['nx', 'run-many', '-t', 'build', `--projects=${services.join(',')}`], 'build (--no-build runs the existing dist/)')} ms`,
    );
  for (const s of services)
    if (!existsSync(join(serviceRoot, 'dist', 'apps', s, 'main.js')))
      throw new Error(`${serviceRoot}/dist/apps/${s}/main.js missing: build first`);
}

/** A private topic namespace and database for one repetition, like @cdp/testing's testScope. */
export function benchScope(partitions) {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const { kafkaBrokers, registryUrl, mongoUrl } = endpoints();
  const url = new URL(mongoUrl);
  url.pathname = `/cdp_bench_${id}`;
  const namespace = `bench.${id}.`;
  return {
    id,
    namespace,
    database: `cdp_bench_${id}`,
    mongoUrl: url.toString(),
    env: {
      KAFKA_BROKERS: kafkaBrokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      MONGO_URL: url.toString(),
      CDP_TOPIC_NAMESPACE: namespace,
      CDP_TOPIC_PARTITIONS: String(partitions),
      LOG_LEVEL: 'warn',
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts dist/apps/<name>/main.js and waits for /health/ready. With CDP_BENCH_PROFILE_DIR set,
 * each service writes a V8 CPU profile there when it stops (open it in Chrome DevTools). `heapMb`
 * caps V8's old space (`--max-old-space-size`) as a deployment does (the Helm chart's
 * `maxOldSpaceSizeMb`); 0 or absent: Node's default, sized from the machine's memory.
 */
export async function startService(root, name, port, env, { heapMb = 0 } = {}) {
  const profileDir = process.env.CDP_BENCH_PROFILE_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`] : [];
  const heap = heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : [];
  const child = spawn(process.execPath, [...heap, ...profile, join(root, 'dist', 'apps', name, 'main.js')], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (c) => (output = (output + c.toString('utf8')).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}\n${output}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after 90 s\n${output}`);
    }
    await sleep(200);
  }
  return {
    name,
    url,
    pid: child.pid,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

const CLK_TCK = 100;

/** CPU seconds (user + system) and resident bytes of a process, from /proc. */
export function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSec = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSec, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return undefined;
  }
}

const STACK_MARKERS = { ferretdb: 'cdp-ferretdb', kafka: 'kafka.Kafka', registry: 'apicurio-registry-app' };

/**
 * Pids of the local stack's servers (deploy/local/stack.sh's pid files, checked against their
 * command lines), so the report can say what the database and Kafka cost beside the services;
 * none when the stack is not ours.
 */
export function stackPids() {
  const home = process.env.CDP_STACK_HOME || join(homedir(), '.cache', 'cdp-stack');
  const offset = Number(process.env.CDP_STACK_PORT_OFFSET || 0);
  const dir = join(home, offset ? `run-${offset}` : 'run', 'pids');
  const pids = {};
  for (const [part, marker] of Object.entries(STACK_MARKERS)) {
    try {
      const pid = Number(readFileSync(join(dir, `${part}.pid`), 'utf8').trim());
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) pids[part] = pid;
    } catch {
      // not running, or not started by stack.sh
    }
  }
  return pids;
}
