const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** HTTP statuses an SDK retries: the collector is overloaded, unavailable or gone; anything else is final. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Sends generated Segment batches to the collector like an SDK with a persistent queue: a batch
 * that fails (non-200 or no answer) is retried with the same messageIds, with exponential backoff
 * and jitter, until it is answered 200. Every messageId the collector answered 200 for is recorded
 * with the phase (fault) it was sent in; every non-200 answer is counted per phase and status.
 */
export class Sender {
  constructor({ urls, writeKey, workload, batchSize, concurrency, rate, lagCap, lag, lagWaitMs = 90_000, giveUpMs = 600_000, log }) {
    this.urls = urls;
    this.auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    this.workload = workload;
    this.batchSize = batchSize;
    this.concurrency = concurrency;
    this.rate = rate;
    this.lagCap = lagCap;
    this.lag = lag;
    this.lagWaitMs = lagWaitMs;
    this.capIgnored = false;
    this.giveUpMs = giveUpMs;
    this.log = log;
    this.accepted = new Map(); // messageId -> phase
    this.userIds = new Set();
    this.phases = {};
    this.nextSlot = Date.now();
    this.rr = 0;
  }

  stats(phase) {
    return (this.phases[phase] ??= {
      sent: 0,
      accepted: 0,
      gaveUp: 0,
      attempts: 0,
      failedAttempts: 0,
      failedEvents: 0,
      statuses: {},
      outages: [],
    });
  }

  /** Sends `count` new events as `phase`; resolves when every batch was answered 200 (or given up). */
  async run(phase, count, onProgress = () => undefined) {
    const st = this.stats(phase);
    let generated = 0;
    const take = () => {
      if (generated >= count) return undefined;
      const n = Math.min(this.batchSize, count - generated);
      generated += n;
      st.sent += n;
      return this.workload.batch(n);
    };
    const worker = async () => {
      for (let batch = take(); batch; batch = take()) {
        await this.pace(batch.length);
        await this.deliver(phase, batch);
        onProgress(st.accepted + st.gaveUp);
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    return st;
  }

  /** Rate limit (events/s) and back-pressure: no new batch while the pipeline's lag is above the cap. */
  async pace(n) {
    if (this.rate) {
      const slot = Math.max(Date.now(), this.nextSlot);
      this.nextSlot = slot + (n / this.rate) * 1000;
      if (slot > Date.now()) await sleep(slot - Date.now());
    }
    // A stalled stage would hold the cap forever: after lagWaitMs without the lag going under it, send anyway.
    const since = Date.now();
    while (this.lagCap && !this.capIgnored && this.lag() > this.lagCap) {
      if (Date.now() - since > this.lagWaitMs) {
        this.capIgnored = true;
        this.log(
          `lag stayed above ${this.lagCap} for ${this.lagWaitMs / 1000} s: a stage is stalled; sending without back-pressure from now on`,
        );
      }
      await sleep(100);
    }
  }

  async deliver(phase, batch) {
    const st = this.stats(phase);
    const body = JSON.stringify({ batch, context: { library: { name: 'cdp-chaos', version: '1' } } });
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const urls = this.urls();
      const url = urls[this.rr++ % urls.length];
      let status;
      try {
        const res = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: this.auth },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        status = res.status;
      } catch (e) {
        status = e.cause?.code ?? e.code ?? e.name ?? 'error';
      }
      st.attempts++;
      if (status === 200) {
        for (const e of batch) {
          this.accepted.set(e.messageId, phase);
          if (e.userId) this.userIds.add(e.userId);
        }
        st.accepted += batch.length;
        return;
      }
      st.failedAttempts++;
      st.failedEvents += batch.length;
      st.statuses[status] = (st.statuses[status] ?? 0) + 1;
      const retryable = typeof status !== 'number' || RETRYABLE.has(status);
      if (!retryable || Date.now() - started > this.giveUpMs) {
        this.log(`${phase}: giving up a batch of ${batch.length} after ${attempt + 1} attempts (last: ${status})`);
        st.gaveUp += batch.length;
        return;
      }
      const backoff = Math.min(5000, 200 * 2 ** attempt);
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
}
