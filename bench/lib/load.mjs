const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Drives the collector with /v1/batch requests from `concurrency` workers until `until`.
 * `rate` (events/s) paces the requests; without it the workers send as fast as the collector
 * answers, held back only while the pipeline's total consumer lag is above `lagCap()`, so that
 * "maximum" means what the whole pipeline sustains, not what the collector can queue up.
 */
export async function drive({ collectorUrl, writeKey, workload, batchSize, concurrency, until, rate, lagCap, lag }) {
  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const stats = { requests: 0, accepted: 0, rejected: 0, statuses: {}, requestMs: [], busyMs: 0, bytes: 0 };
  let nextSlot = Date.now();
  const worker = async () => {
    while (Date.now() < until) {
      if (rate) {
        const slot = Math.max(Date.now(), nextSlot);
        nextSlot = slot + (batchSize / rate) * 1000;
        if (slot > Date.now()) await sleep(slot - Date.now());
        if (Date.now() >= until) break;
      } else if (lagCap) {
        while (lag() > lagCap() && Date.now() < until) await sleep(50);
        if (Date.now() >= until) break;
      }
      const body = JSON.stringify({ batch: workload.batch(batchSize), context: { library: { name: 'cdp-bench', version: '1' } } });
      const started = Date.now();
      try {
        const res = await fetch(`${collectorUrl}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: auth },
          body,
        });
        await res.arrayBuffer();
        stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
        if (res.ok) stats.accepted += batchSize;
        else stats.rejected += batchSize;
      } catch (e) {
        stats.statuses[e.code ?? 'error'] = (stats.statuses[e.code ?? 'error'] ?? 0) + 1;
        stats.rejected += batchSize;
        await sleep(100);
      }
      stats.requests++;
      stats.bytes += body.length;
      stats.requestMs.push(Date.now() - started);
      stats.busyMs += Date.now() - started;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stats;
}
