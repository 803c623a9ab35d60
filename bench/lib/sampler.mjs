import { procSample } from './services.mjs';

export const TOPICS = {
  raw: 'cdp.events.raw.v1',
  normalized: 'cdp.events.normalized.v1',
  dlq: 'cdp.events.dlq.v1',
  merges: 'cdp.identity.merges.v1',
  removals: 'cdp.identity.removals.v1',
  resolved: 'cdp.events.resolved.v1',
  profileChanges: 'cdp.profiles.changes.v1',
  segmentChanges: 'cdp.segments.changes.v1',
};

/** What each stage writes: its output rate is the growth of these topics. */
export const STAGE_OUTPUTS = {
  collector: ['raw'],
  normalizer: ['normalized', 'dlq'],
  'identity-resolver': ['resolved'],
  'profile-store': ['profileChanges'],
  segmenter: ['segmentChanges'],
};

/**
 * The main input each consuming stage's rate is measured on (its consumer group is
 * `<namespace>cdp.<service>`); the group reads more (chaos/lib/verify.mjs GROUP_INPUTS), which
 * would count events twice here.
 */
export const STAGE_INPUTS = {
  normalizer: ['raw'],
  'identity-resolver': ['normalized'],
  'profile-store': ['resolved', 'merges'],
  segmenter: ['profileChanges'],
};

const sum = (partitions, field) => partitions.reduce((s, p) => s + Math.max(0, Number(p[field])), 0);

/** Calls `sample` every `intervalMs`, skipping a tick while the previous call is still out; the interval handle. */
export function pollEvery(intervalMs, sample) {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    sample()
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, intervalMs);
}

/**
 * Samples once a second: end offsets per topic, committed offsets and lag per consumer group,
 * CPU seconds and RSS per service process. The collector's throughput is the raw topic's growth.
 */
export class Sampler {
  constructor({ admin, namespace, pids, intervalMs = 1000 }) {
    this.admin = admin;
    this.ns = namespace;
    this.pids = pids;
    this.intervalMs = intervalMs;
    this.samples = [];
    this.lastLag = 0;
  }

  async sample() {
    const t = Date.now();
    const names = Object.entries(TOPICS);
    const ends = Object.fromEntries(
      await Promise.all(names.map(async ([id, name]) => [id, sum(await this.admin.fetchTopicOffsets(this.ns + name), 'high')])),
    );
    const committed = {};
    const lag = {};
    await Promise.all(
      Object.entries(STAGE_INPUTS).map(async ([service, inputs]) => {
        const offsets = await this.admin.fetchOffsets({
          groupId: `${this.ns}cdp.${service}`,
          topics: inputs.map((i) => this.ns + TOPICS[i]),
        });
        committed[service] = offsets.reduce((s, tp) => s + sum(tp.partitions, 'offset'), 0);
        lag[service] = inputs.reduce((s, i) => s + ends[i], 0) - committed[service];
      }),
    );
    const proc = Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, procSample(pid)]));
    const s = { t, ends, committed, lag, proc };
    this.samples.push(s);
    this.lastLag = Object.values(lag).reduce((a, b) => a + b, 0);
    return s;
  }

  start() {
    this.timer = pollEvery(this.intervalMs, () => this.sample());
    return this.sample();
  }

  /** Records per second the last stage finished over the last `seconds`. */
  recentRate(service, seconds = 5) {
    const b = this.samples[this.samples.length - 1];
    const a = [...this.samples].reverse().find((s) => s.t <= b.t - seconds * 1000);
    return a ? (1000 * (b.committed[service] - a.committed[service])) / (b.t - a.t) : 0;
  }

  async stop() {
    clearInterval(this.timer);
    return this.sample();
  }

  /** The sample nearest to (at or after) time t. */
  at(t) {
    return this.samples.find((s) => s.t >= t) ?? this.samples[this.samples.length - 1];
  }

  /** Rates over [from, to]: records per second per stage, CPU share and peak RSS per service. */
  window(from, to) {
    const a = this.at(from);
    const b = [...this.samples].reverse().find((s) => s.t <= to) ?? this.samples[this.samples.length - 1];
    const sec = Math.max(0.001, (b.t - a.t) / 1000);
    const stages = { collector: { eventsPerSec: (b.ends.raw - a.ends.raw) / sec } };
    for (const service of Object.keys(STAGE_INPUTS))
      stages[service] = { eventsPerSec: (b.committed[service] - a.committed[service]) / sec };
    // Output growth is a second view: a stage that commits once per large chunk shows its work here first.
    for (const [service, outs] of Object.entries(STAGE_OUTPUTS)) {
      stages[service].producedPerSec = outs.reduce((n, o) => n + b.ends[o] - a.ends[o], 0) / sec;
    }
    const inWindow = this.samples.filter((s) => s.t >= a.t && s.t <= b.t);
    for (const service of Object.keys(this.pids)) {
      const pa = a.proc[service];
      const pb = b.proc[service];
      if (!stages[service]) stages[service] = {};
      if (pa && pb) stages[service].cpuPercent = (100 * (pb.cpuSec - pa.cpuSec)) / sec;
      const rss = inWindow.map((s) => s.proc[service]?.rssBytes ?? 0);
      stages[service].rssMbMax = Math.max(...rss) / 2 ** 20;
      stages[service].rssMbAvg = rss.reduce((x, y) => x + y, 0) / Math.max(1, rss.length) / 2 ** 20;
      if (STAGE_INPUTS[service]) {
        stages[service].lagMax = Math.max(...inWindow.map((s) => s.lag[service]));
        // Capacity: the rate over the seconds this stage had a backlog, i.e. was never waiting for input.
        let n = 0;
        let ms = 0;
        for (let i = 1; i < inWindow.length; i++) {
          if (inWindow[i - 1].lag[service] <= 0) continue;
          n += inWindow[i].committed[service] - inWindow[i - 1].committed[service];
          ms += inWindow[i].t - inWindow[i - 1].t;
        }
        stages[service].busyEventsPerSec = ms > 0 ? (1000 * n) / ms : null;
        stages[service].busySeconds = ms / 1000;
      }
    }
    return { seconds: sec, stages, dlq: b.ends.dlq - a.ends.dlq };
  }
}
