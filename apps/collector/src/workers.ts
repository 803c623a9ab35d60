import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry } from 'prom-client';

/**
 * Several collector processes on one port (Node's cluster: the primary accepts connections and
 * hands them to its workers in turn). The collector is CPU-bound in one thread — JSON, Avro and
 * the Kafka protocol for every event — so CDP_WORKERS > 1 lets it use more cores. The primary runs
 * no Nest app: it starts the workers one after the other (so that start-up writes such as the demo
 * workspace and schema registration never race), forwards SIGTERM/SIGINT so that each worker
 * drains as a single process does, replaces a worker that dies, and answers the workers' requests
 * for the metrics of all of them (GET /metrics on any worker).
 */

/** Messages between the primary and its workers. */
export const READY = 'cdp:worker-ready';
export const METRICS_REQ = 'cdp:cluster-metrics-req';
export const METRICS_RES = 'cdp:cluster-metrics-res';

/**
 * CDP_WORKERS: a number of processes, or `auto` (one per core). Unset: 1, a single process as
 * before. Undefined when the value is not valid: the single process then refuses it with the
 * other config errors (CollectorConfig validates it too).
 */
export function workerCount(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return availableParallelism();
  return /^[1-9]\d?$/.test(value) ? Number(value) : undefined;
}

const log = (level: number, msg: string): void => {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, service: 'collector', context: 'Workers', msg })}\n`);
};

/**
 * Runs `start` in this process (one worker, or this is a worker), or becomes the primary of `count`
 * workers. A worker reports when `start` has resolved (it listens and is ready).
 */
export async function runWorkers(count: number, start: () => Promise<void>): Promise<void> {
  if (cluster.isWorker) {
    await start();
    process.send?.({ type: READY });
    return;
  }
  if (count <= 1) return start();
  runPrimary(count);
}

function runPrimary(count: number): void {
  const aggregator = new AggregatorRegistry();
  const ready = new Set<Worker>();
  let stopping: NodeJS.Signals | undefined;

  const fork = (): void => {
    const worker = cluster.fork();
    worker.on('message', (message: { type?: string; id?: number }) => {
      if (message.type === READY) {
        ready.add(worker);
        log(30, `worker ${worker.process.pid} ready (${ready.size} of ${count})`);
        // One at a time: the next starts once this one is up.
        if (!stopping && Object.keys(cluster.workers ?? {}).length < count) fork();
      } else if (message.type === METRICS_REQ) {
        aggregator.clusterMetrics().then(
          (text) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, text }),
          (e: unknown) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, error: String(e) }),
        );
      }
    });
    worker.on('exit', (code, signal) => {
      const wasReady = ready.delete(worker);
      const alive = Object.keys(cluster.workers ?? {}).length;
      if (stopping) {
        if (alive === 0) finish();
        return;
      }
      log(50, `worker ${worker.process.pid} exited (${signal ?? `code ${code}`})`);
      if (wasReady) return fork();
      // A worker that could not start (bad config, unreachable dependencies) stops the service, as a single process would.
      stopping = 'SIGTERM';
      process.exitCode = code || 1;
      if (alive === 0) finish();
      else for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    });
  };

  const finish = (): void => {
    log(30, 'all workers stopped');
    process.exit();
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = signal;
      log(30, `${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} workers`);
      // Always SIGTERM: after Ctrl-C a worker has its own SIGINT already, and a second signal of the same kind would kill it undrained.
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      if (Object.keys(cluster.workers ?? {}).length === 0) finish();
    });
  }
  log(30, `starting ${count} workers`);
  fork();
}
