import { execFile } from 'node:child_process';
import { SERVICES, startService } from '../../bench/lib/services.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The five services as processes (bench's launcher), one primary instance each on portBase+1..5,
 * an optional second instance on portBase+11..15. Knows how to kill, stop and restart them.
 */
export class Fleet {
  constructor({ root, env, portBase, log }) {
    this.root = root;
    this.env = env;
    this.portBase = portBase;
    this.log = log;
    this.primary = {};
    this.extra = {};
    this.all = [];
  }

  port(name, extra = false) {
    return this.portBase + SERVICES.indexOf(name) + 1 + (extra ? 10 : 0);
  }

  /** Starts one instance; one retry, as concurrent first registrations of a subject can race in the registry. */
  async launch(name, extra = false) {
    const port = this.port(name, extra);
    const started = Date.now();
    const inst = await startService(this.root, name, port, this.env).catch((e) => {
      this.log(`${name} failed to start (${String(e.message).split('\n')[0]}); retrying once`);
      return startService(this.root, name, port, this.env);
    });
    (extra ? this.extra : this.primary)[name] = inst;
    this.all.push({ name: extra ? `${name} (2nd)` : name, startedAt: new Date().toISOString(), inst });
    return Date.now() - started;
  }

  async startAll() {
    const results = await Promise.allSettled(SERVICES.map((name) => this.launch(name)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The collector URLs a client may send to (both instances while the collector is scaled out). */
  collectorUrls() {
    // The primary's address even while it is down: a client keeps sending there (and gets refused).
    return [`http://127.0.0.1:${this.port('collector')}`, ...(this.extra.collector ? [this.extra.collector.url] : [])];
  }

  url(name) {
    return this.primary[name].url;
  }

  /** kill -9, then wait for the process to be gone. */
  async kill9(name, extra = false) {
    const pool = extra ? this.extra : this.primary;
    const inst = pool[name];
    delete pool[name];
    try {
      process.kill(inst.pid, 'SIGKILL');
    } catch (e) {
      // Already gone (it died by itself): say so, with its last output, and go on.
      if (e.code !== 'ESRCH') throw e;
      this.log(`${name} (pid ${inst.pid}) had already exited; its last output:\n${inst.output().slice(-3000)}`);
    }
    await inst.stop();
  }

  /** SIGTERM; bench's stop() escalates to SIGKILL after 15 s, which counts as a failed graceful stop. */
  async terminate(name, extra = false) {
    const pool = extra ? this.extra : this.primary;
    const inst = pool[name];
    delete pool[name];
    const started = Date.now();
    await inst.stop();
    const ms = Date.now() - started;
    return { stopMs: ms, forced: ms >= 14_900, tail: ms >= 14_900 ? inst.output().slice(-2000) : undefined };
  }

  /** The last lines each instance wrote (LOG_LEVEL=warn: warnings and errors), killed ones included. */
  logs(bytes = 6000) {
    return this.all
      .map(({ name, startedAt, inst }) => `==== ${name}, started ${startedAt}, pid ${inst.pid}\n${inst.output().slice(-bytes)}`)
      .join('\n');
  }

  pids() {
    return Object.fromEntries(Object.entries(this.primary).map(([n, s]) => [n, s.pid]));
  }

  async stopAll() {
    const all = [...Object.values(this.primary), ...Object.values(this.extra)];
    this.primary = {};
    this.extra = {};
    await Promise.all(all.map((s) => s.stop().catch(() => undefined)));
  }
}

/** A fault: what it does to the running pipeline; `inject` resolves once the pipeline is whole again. */
export function serviceFaults(services, kinds) {
  const faults = [];
  if (kinds.includes('kill9'))
    for (const name of services)
      faults.push({
        id: `kill9-${name}`,
        kind: 'kill9',
        target: name,
        describe: `kill -9 ${name}, restart it after the down time`,
        async inject({ fleet, downMs }) {
          await fleet.kill9(name);
          await sleep(downMs);
          const restartMs = await fleet.launch(name);
          return { downMs, restartMs };
        },
      });
  if (kinds.includes('sigterm'))
    for (const name of services)
      faults.push({
        id: `sigterm-${name}`,
        kind: 'sigterm',
        target: name,
        describe: `SIGTERM ${name} (graceful: drain and commit), restart it`,
        async inject({ fleet, downMs }) {
          const stop = await fleet.terminate(name);
          await sleep(downMs);
          const restartMs = await fleet.launch(name);
          return { ...stop, downMs, restartMs, failed: stop.forced ? `${name} needed SIGKILL after 15 s` : undefined };
        },
      });
  if (kinds.includes('scale'))
    for (const name of services)
      faults.push({
        id: `scale-${name}`,
        kind: 'scale',
        target: name,
        describe: `start a second ${name} (rebalance), run both, SIGTERM the second (rebalance back)`,
        async inject({ fleet, scaleMs }) {
          const startMs = await fleet.launch(name, true);
          await sleep(scaleMs);
          const stop = await fleet.terminate(name, true);
          return { startMs, bothMs: scaleMs, ...stop, failed: stop.forced ? `second ${name} needed SIGKILL after 15 s` : undefined };
        },
      });
  return faults;
}

/**
 * Faults of the shared infrastructure, through deploy/local/stack.sh (only the processes it
 * started). They disturb everyone on the machine, so they run only with --infra.
 */
export function infraFaults(root) {
  // Asynchronous: the load and the probe keep running while stack.sh waits for the part to stop or start.
  const stack = (cmd, part) =>
    new Promise((resolve, reject) =>
      execFile('bash', ['deploy/local/stack.sh', cmd, part], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(new Error(`stack.sh ${cmd} ${part} failed:\n${stdout}\n${stderr}`)) : resolve(),
      ),
    );
  /** Probes the collector with one tiny batch a second: the statuses it answers while the part is down. */
  const probe = ({ fleet, writeKey }) => {
    const seen = {};
    let on = true;
    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    const loop = (async () => {
      while (on) {
        let status;
        try {
          const res = await fetch(`${fleet.url('collector')}/v1/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: auth },
            // An event of its own profile: the probe's accepted events are not part of the checked set.
            body: JSON.stringify({
              batch: [{ type: 'track', anonymousId: `chaos-probe`, event: 'Probe', messageId: `probe-${Date.now()}` }],
            }),
            signal: AbortSignal.timeout(20_000),
          });
          status = res.status;
        } catch (e) {
          status = e.cause?.code ?? e.name;
        }
        seen[status] = (seen[status] ?? 0) + 1;
        await sleep(1000);
      }
    })();
    return async () => {
      on = false;
      await loop;
      return seen;
    };
  };
  const restart = (part, id, describe) => ({
    id,
    kind: 'infra',
    target: part,
    describe,
    async inject({ fleet, infraDownMs: downMs, writeKey }) {
      await stack('down', part);
      const stopProbe = probe({ fleet, writeKey });
      await sleep(downMs);
      const whileDown = await stopProbe();
      const started = Date.now();
      await stack('up', part);
      const upMs = Date.now() - started;
      // The collector must accept again once the part is back.
      const deadline = Date.now() + 120_000;
      let back = false;
      while (!back && Date.now() < deadline) {
        const after = probe({ fleet, writeKey });
        await sleep(1500);
        const s = await after();
        back = (s[200] ?? 0) > 0;
      }
      const failed =
        part === 'kafka' && !(whileDown[503] > 0 && Object.keys(whileDown).every((k) => k === '503'))
          ? `collector answered ${JSON.stringify(whileDown)} while Kafka was down (expected only 503)`
          : !back
            ? 'collector did not answer 200 within 120 s of the part being back'
            : undefined;
      return { downMs, upMs, collectorWhileDown: whileDown, collectorBack: back, failed };
    },
  });
  return [
    restart('kafka', 'restart-kafka', 'stack.sh down kafka (SIGTERM, SIGKILL after 30 s), wait, stack.sh up kafka'),
    restart('ferretdb', 'restart-database', 'stack.sh down ferretdb (stop the database), wait, stack.sh up ferretdb'),
  ];
}
