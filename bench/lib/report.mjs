import { copyFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const STAGES = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'];
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const round = (x, d = 0) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);
const med = (reps, f, d = 0) => round(median(reps.map(f)), d);

/** Medians over the repetitions of every figure the report states. */
export function summarize({ cfg, reps, startedAt, durationSec }) {
  const stages = {};
  for (const s of STAGES) {
    stages[s] = {
      eventsPerSec: med(reps, (r) => r.phases.max.stages[s].eventsPerSec, 1),
      busyEventsPerSec: med(reps, (r) => r.phases.max.stages[s].busyEventsPerSec, 1),
      producedPerSec: med(reps, (r) => r.phases.max.stages[s].producedPerSec, 1),
      cpuPercent: med(reps, (r) => r.phases.max.stages[s].cpuPercent),
      rssMbMax: med(reps, (r) => r.phases.max.stages[s].rssMbMax, 1),
      rssMbMaxAtHalfRate: med(reps, (r) => r.phases.half.stages[s].rssMbMax, 1),
      ...(s === 'collector' ? {} : { lagMax: med(reps, (r) => r.phases.max.stages[s].lagMax) }),
    };
  }
  // What else ran on the machine in the window: the stack's servers and this driver.
  const others = [...new Set(reps.flatMap((r) => Object.keys(r.phases.max.stages)))].filter((n) => !STAGES.includes(n));
  const infrastructure = Object.fromEntries(
    others.map((n) => [
      n,
      { cpuPercent: med(reps, (r) => r.phases.max.stages[n]?.cpuPercent), rssMbMax: med(reps, (r) => r.phases.max.stages[n]?.rssMbMax, 1) },
    ]),
  );
  const cpuPercentAllProcesses = [
    ...STAGES.map((s) => stages[s].cpuPercent),
    ...Object.values(infrastructure).map((x) => x.cpuPercent),
  ].reduce((a, b) => a + (b ?? 0), 0);
  const dbWork = Object.fromEntries(
    STAGES.filter((s) => reps.some((r) => r.phases.max.db?.[s])).map((s) => {
      const of = (r) => r.phases.max.db?.[s];
      const collections = [...new Set(reps.flatMap((r) => Object.keys(of(r)?.documentsByCollection ?? {})))];
      return [
        s,
        {
          commandsPerEvent: med(reps, (r) => of(r)?.commandsPerEvent, 3),
          documentsPerEvent: med(reps, (r) => of(r)?.documentsPerEvent, 3),
          writeErrorsPerEvent: med(reps, (r) => of(r)?.writeErrorsPerEvent ?? 0, 4),
          documentsByCollection: Object.fromEntries(
            collections
              .map((c) => [c, med(reps, (r) => of(r)?.documentsByCollection[c] ?? 0, 3)])
              .filter(([, v]) => v > 0)
              .sort((a, b) => b[1] - a[1]),
          ),
        },
      ];
    }),
  );
  const ceilings = {
    produce: { eventsPerSec: med(reps, (r) => r.ceilings.produce.eventsPerSec) },
    passThrough: { eventsPerSec: med(reps, (r) => r.ceilings.passThrough.eventsPerSec) },
    bulkUpsert: { eventsPerSec: med(reps, (r) => r.ceilings.bulkUpsert.eventsPerSec, 1) },
    bulkUpsertByFields: { eventsPerSec: med(reps, (r) => r.ceilings.bulkUpsert.byFieldsPerSec, 1) },
    bulkInsert: { eventsPerSec: med(reps, (r) => r.ceilings.bulkUpsert.bulkInsertPerSec, 1) },
  };
  const dbCeiling = Math.min(ceilings.passThrough.eventsPerSec, ceilings.bulkUpsert.eventsPerSec);
  const ceilingOf = {
    collector: ceilings.produce.eventsPerSec,
    normalizer: ceilings.passThrough.eventsPerSec,
    'identity-resolver': dbCeiling,
    'profile-store': dbCeiling,
    segmenter: dbCeiling,
  };
  const endToEnd = {
    eventsPerSec: stages.segmenter.eventsPerSec,
    collectorAcceptedPerSec: med(reps, (r) => r.phases.max.http.accepted / ((r.phases.max.to - r.phases.max.from + r.warmupMs) / 1000), 1),
    latencyRate: med(reps, (r) => r.phases.half.rate),
    latencyMs: {
      p50: med(reps, (r) => r.phases.half.latencyMs.p50),
      p95: med(reps, (r) => r.phases.half.latencyMs.p95),
      p99: med(reps, (r) => r.phases.half.latencyMs.p99),
      samples: med(reps, (r) => r.phases.half.latencyMs.count),
    },
    latencyAtMaxMs: {
      p50: med(reps, (r) => r.phases.max.latencyMs.p50),
      p95: med(reps, (r) => r.phases.max.latencyMs.p95),
      p99: med(reps, (r) => r.phases.max.latencyMs.p99),
      samples: med(reps, (r) => r.phases.max.latencyMs.count),
    },
    // Every segment change of the run, warm-up included: the only figure when the pipeline is too slow to reach the windows' events.
    latencyAllMs: {
      p50: med(reps, (r) => r.latencyAllMs.p50),
      p95: med(reps, (r) => r.latencyAllMs.p95),
      p99: med(reps, (r) => r.latencyAllMs.p99),
      samples: med(reps, (r) => r.latencyAllMs.count),
    },
    drainMsAfterMax: med(reps, (r) => r.phases.max.drainMs),
  };
  // A stage's capacity (its rate while it had a backlog) over its ceiling; its window rate when it never had one.
  const capacity = (s) => stages[s].busyEventsPerSec ?? stages[s].eventsPerSec;
  const ratios = Object.fromEntries(STAGES.map((s) => [s, round(capacity(s) / ceilingOf[s], 3)]));
  ratios.endToEnd = round(endToEnd.eventsPerSec / Math.min(...Object.values(ceilingOf)), 3);
  // The stage with the largest backlog in the maximum-rate window is the one holding the pipeline back.
  const bottleneck = STAGES.filter((x) => x !== 'collector').reduce((a, b) => ((stages[b].lagMax ?? 0) > (stages[a].lagMax ?? 0) ? b : a));
  const maxRss = Math.max(...STAGES.map((s) => stages[s].rssMbMax ?? 0));
  const targets = {
    endToEndAtLeast5000: { target: 5000, measured: endToEnd.eventsPerSec, met: endToEnd.eventsPerSec >= 5000 },
    p99UnderHalfRateBelow500ms: {
      target: 500,
      measured: endToEnd.latencyMs.p99,
      met: endToEnd.latencyMs.p99 != null && endToEnd.latencyMs.p99 < 500,
    },
    eachStageHalfItsCeiling: {
      target: 0.5,
      measured: Math.min(...STAGES.map((s) => ratios[s])),
      met: STAGES.every((s) => ratios[s] >= 0.5),
    },
    rssUnder256Mb: { target: 256, measured: maxRss, met: maxRss < 256 },
  };
  return {
    startedAt,
    mode: cfg.mode,
    durationSec: round(durationSec),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    config: cfg,
    workload: {
      people: med(reps, (r) => r.people),
      events: med(reps, (r) => r.events),
      avgRecordBytes: med(reps, (r) => r.avgRecordBytes),
      mix: reps[0].mix,
      segments: cfg.segments,
    },
    endToEnd,
    stages,
    infrastructure,
    cpuPercentAllProcesses,
    dbWork,
    ceilings,
    ceilingOf,
    ratios,
    bottleneck,
    targets,
    repetitions: reps.map((r) => ({
      rep: r.rep,
      endToEndEventsPerSec: round(r.phases.max.stages.segmenter.eventsPerSec),
      stages: Object.fromEntries(STAGES.map((s) => [s, round(r.phases.max.stages[s].eventsPerSec)])),
      latencyMs: r.phases.half.latencyMs,
      latencyAtMaxMs: r.phases.max.latencyMs,
      ceilings: Object.fromEntries(Object.entries(r.ceilings).map(([k, v]) => [k, round(v.eventsPerSec)])),
      dlqRecords: r.phases.max.dlq + r.phases.half.dlq,
      httpStatuses: r.phases.max.http.statuses,
      segmentChanges: r.segmentChanges,
    })),
  };
}

const fmt = (x, d = 0) => (x == null ? 'n/a' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

function markdown(res, previous) {
  const e = res.endToEnd;
  const prev = (f) => {
    try {
      return previous ? fmt(f(previous)) : '';
    } catch {
      return '';
    }
  };
  const lines = [
    `# Benchmark ${res.startedAt} (${res.mode}, ${res.config.reps} repetition(s), medians)`,
    '',
    `Machine: ${res.machine.cpus} cores (${res.machine.cpuModel}), Node ${res.machine.node}; ${res.config.partitions} partitions per topic, acks=all; services with ${res.config.heapMb ? `a ${res.config.heapMb} MB V8 heap (--max-old-space-size)` : "Node's default heap"}.`,
    `Workload: ${fmt(res.workload.people)} people, ${fmt(res.workload.events)} events per repetition, ${fmt(res.workload.avgRecordBytes)} bytes per raw record;`,
    `batches of ${res.config.batchSize} over ${res.config.concurrency} concurrent requests; warm-up ${res.config.warmupSec} s, maximum-rate window ${res.config.maxSec} s (consumer lag capped at ${res.config.lagCap ? fmt(res.config.lagCap) : 'two seconds of the finishing rate'}), latency window ${res.config.halfSec} s at half the sustained rate.`,
    '',
    '| figure | this run | previous latest |',
    '|---|---:|---:|',
    `| store: people pre-seeded before the load | ${fmt(res.store?.profiles ?? 0)} | ${previous ? fmt(previous.store?.profiles ?? 0) : ''} |`,
    ...(res.store?.profiles
      ? [
          `| seeding: s, people/s, documents/s (${Object.entries(res.store.documents)
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(', ')}) | ${fmt(res.store.seedingSec, 1)} s, ${fmt(res.store.peoplePerSec)}, ${fmt(res.store.documentsPerSec)} | |`,
        ]
      : []),
    ...(res.scale
      ? [
          `| end to end at ${fmt(res.scale.largeStore)} people over end to end at ${fmt(res.scale.smallStore)} (target at least 0.8) | ${fmt(res.scale.ratio, 3)} (${fmt(res.scale.largeEventsPerSec, 1)} / ${fmt(res.scale.smallEventsPerSec, 1)} events/s) | |`,
          `| the same ratio per stage: ${Object.entries(res.scale.stages)
            .map(([k, v]) => `${k} ${fmt(v, 2)}`)
            .join(', ')} | | |`,
        ]
      : []),
    `| end to end, events/s (through all five services) | ${fmt(e.eventsPerSec)} | ${prev((p) => p.endToEnd.eventsPerSec)} |`,
    `| event-to-segment-change latency at ${fmt(e.latencyRate)} events/s, p50 / p95 / p99 ms | ${fmt(e.latencyMs.p50)} / ${fmt(e.latencyMs.p95)} / ${fmt(e.latencyMs.p99)} | ${prev((p) => p.endToEnd.latencyMs.p99)} (p99) |`,
    `| same latency at the maximum rate, p50 / p95 / p99 ms | ${fmt(e.latencyAtMaxMs.p50)} / ${fmt(e.latencyAtMaxMs.p95)} / ${fmt(e.latencyAtMaxMs.p99)} | |`,
    `| same latency over every segment change of the run (${fmt(e.latencyAllMs.samples)}), p50 / p95 / p99 ms | ${fmt(e.latencyAllMs.p50)} / ${fmt(e.latencyAllMs.p95)} / ${fmt(e.latencyAllMs.p99)} | |`,
    '',
    '| stage | consumed/s (window) | consumed/s while backlogged | produced/s | ceiling | ratio | CPU % | RSS max MB | lag max |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...STAGES.map(
      (s) =>
        `| ${s} | ${fmt(res.stages[s].eventsPerSec, 1)} | ${fmt(res.stages[s].busyEventsPerSec, 1)} | ${fmt(res.stages[s].producedPerSec, 1)} | ${fmt(res.ceilingOf[s], 1)} | ${fmt(res.ratios[s], 3)} | ${fmt(res.stages[s].cpuPercent)} | ${fmt(res.stages[s].rssMbMax, 1)} | ${fmt(res.stages[s].lagMax)} |`,
    ),
    '',
    ...(Object.keys(res.infrastructure ?? {}).length
      ? [
          `Beside the services in the same window: ${Object.entries(res.infrastructure)
            .map(([n, x]) => `${n} ${fmt(x.cpuPercent)}% CPU (RSS max ${fmt(x.rssMbMax)} MB)`)
            .join(', ')}; all processes together ${fmt(res.cpuPercentAllProcesses)}% of the ${res.machine.cpus * 100}% the machine has.`,
          '',
        ]
      : []),
    ...(Object.keys(res.dbWork ?? {}).length
      ? [
          '| database work per event consumed (maximum-rate window) | round trips | documents sent or returned | write errors (duplicate keys) | documents by collection and command |',
          '|---|---:|---:|---:|---|',
          ...Object.entries(res.dbWork).map(
            ([s, w]) =>
              `| ${s} | ${fmt(w.commandsPerEvent, 3)} | ${fmt(w.documentsPerEvent, 2)} | ${fmt(w.writeErrorsPerEvent, 4)} | ${Object.entries(
                w.documentsByCollection,
              )
                .map(([c, v]) => `${c} ${fmt(v, 2)}`)
                .join(', ')} |`,
          ),
          '',
        ]
      : []),
    `Ceilings (same run, same payloads, partitions, acks=all): bare produce ${fmt(res.ceilings.produce.eventsPerSec)}/s, bare consume-and-produce ${fmt(res.ceilings.passThrough.eventsPerSec)}/s, bare bulk upsert by _id ${fmt(res.ceilings.bulkUpsert.eventsPerSec, 1)}/s (the same upserts filtered on {workspaceId, profileId} under a unique index: ${fmt(res.ceilings.bulkUpsertByFields.eventsPerSec, 1)}/s; plain bulk insert of the same documents: ${fmt(res.ceilings.bulkInsert.eventsPerSec)}/s).`,
    `Bottleneck (largest consumer lag in the maximum-rate window): ${res.bottleneck}.`,
    '',
    '| target | measured | met |',
    '|---|---:|---|',
    ...Object.entries(res.targets).map(
      ([k, t]) =>
        `| ${k} (${t.target}) | ${fmt(t.measured, ['eachStageHalfItsCeiling', 'largeStoreAtLeast80PercentOfSmall'].includes(k) ? 3 : 0)} | ${t.met ? 'yes' : 'no'} |`,
    ),
    '',
    ...(res.topicBytes
      ? [
          '| topic | records | avg value bytes | avg key bytes |',
          '|---|---:|---:|---:|',
          ...Object.entries(res.topicBytes).map(
            ([k, t]) => `| ${k} | ${fmt(t.records)} | ${fmt(t.avgValueBytes)} | ${fmt(t.avgKeyBytes)} |`,
          ),
          '',
        ]
      : []),
    ...(res.storage
      ? [
          '| collection | documents | collStats avgObjSize | BSON bytes of documents the load wrote (sampled) | collStats size | index size |',
          '|---|---:|---:|---:|---:|---:|',
          ...Object.entries(res.storage).map(
            ([k, c]) =>
              `| ${k} | ${fmt(c.count)} | ${fmt(c.avgObjSize)} | ${fmt(c.avgBsonBytes)} (${fmt(c.sampled)}) | ${fmt(c.size)} | ${fmt(c.totalIndexSize)} |`,
          ),
          '',
        ]
      : []),
    '![throughput, lag and latency over time](latest.svg)',
    '',
  ];
  return lines.join('\n');
}

/** Hand-written SVG: throughput, consumer lag and latency per second of the first repetition. */
function svg(rep) {
  const W = 960;
  const H = 200;
  const pad = { l: 70, r: 170, t: 28, b: 26 };
  const s = rep.samples;
  const t0 = s[0].t;
  const tEnd = s[s.length - 1].t;
  const x = (t) => pad.l + ((t - t0) / Math.max(1, tEnd - t0)) * (W - pad.l - pad.r);
  const colors = {
    collector: '#1f77b4',
    normalizer: '#ff7f0e',
    'identity-resolver': '#2ca02c',
    'profile-store': '#d62728',
    segmenter: '#9467bd',
    p50: '#17becf',
    p99: '#8c564b',
  };
  const panel = (index, title, series, unit) => {
    const y0 = index * (H + 20);
    const max = Math.max(1, ...series.flatMap((sr) => sr.points.map((p) => p[1])));
    const y = (v) => y0 + pad.t + (1 - v / max) * (H - pad.t - pad.b);
    const out = [`<text x="${pad.l}" y="${y0 + 16}" font-size="13" font-weight="bold">${title}</text>`];
    for (const f of [0, 0.5, 1]) {
      out.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#ddd"/>`);
      out.push(`<text x="${pad.l - 6}" y="${y(max * f) + 4}" font-size="11" text-anchor="end">${fmt(max * f)}${unit}</text>`);
    }
    const ph = rep.phases;
    for (const [name, p] of [
      ['max', ph.max],
      ['half', ph.half],
    ]) {
      out.push(
        `<rect x="${x(p.from)}" y="${y0 + pad.t}" width="${Math.max(0, x(p.to) - x(p.from))}" height="${H - pad.t - pad.b}" fill="#f4f4f4"/>`,
      );
      if (index === 0)
        out.push(
          `<text x="${x(p.from) + 4}" y="${y0 + pad.t + 12}" font-size="10" fill="#888">${name === 'max' ? 'maximum-rate window' : 'half-rate window'}</text>`,
        );
    }
    series.forEach((sr, i) => {
      if (sr.points.length)
        out.push(
          `<polyline fill="none" stroke="${colors[sr.name]}" stroke-width="1.5" points="${sr.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
        );
      out.push(`<text x="${W - pad.r + 10}" y="${y0 + pad.t + 14 * (i + 1)}" font-size="11" fill="${colors[sr.name]}">${sr.name}</text>`);
    });
    out.push(`<text x="${W - pad.r}" y="${y0 + H - 6}" font-size="10" text-anchor="end" fill="#888">${fmt((tEnd - t0) / 1000)} s</text>`);
    return out.join('\n');
  };
  const rate = (name, f) => ({
    name,
    points: s.slice(1).map((b, i) => [b.t, Math.max(0, (f(b) - f(s[i])) / ((b.t - s[i].t) / 1000))]),
  });
  const throughput = [
    rate('collector', (x) => x.ends.raw),
    ...['normalizer', 'identity-resolver', 'profile-store', 'segmenter'].map((n) => rate(n, (x) => x.committed[n])),
  ];
  const lag = ['normalizer', 'identity-resolver', 'profile-store', 'segmenter'].map((n) => ({
    name: n,
    points: s.map((x) => [x.t, x.lag[n]]),
  }));
  const latency = ['p50', 'p99'].map((k) => ({ name: k, points: rep.latencySeries.map((b) => [b.t, b[k]]) }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${3 * (H + 20)}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, 'Throughput per stage (events/s)', throughput, ''),
    panel(1, 'Consumer lag (records)', lag, ''),
    panel(2, 'Event-to-segment-change latency by second received (ms)', latency, ''),
    '</svg>',
    '',
  ].join('\n');
}

export function writeReport({ result, reps, previous, runDir, resultsDir }) {
  const json = JSON.stringify(result, null, 2);
  writeFileSync(join(runDir, 'result.json'), json);
  writeFileSync(join(runDir, 'report.md'), markdown(result, previous).replace('latest.svg', 'chart.svg'));
  writeFileSync(join(runDir, 'chart.svg'), svg(reps[0]));
  writeFileSync(join(resultsDir, 'latest.json'), json);
  writeFileSync(join(resultsDir, 'latest.md'), markdown(result, previous));
  copyFileSync(join(runDir, 'chart.svg'), join(resultsDir, 'latest.svg'));
}
