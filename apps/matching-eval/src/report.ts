import type { Evaluation } from '@cdp/record-linkage';

const pct = (x: number): string => x.toFixed(4);
const ms = (x: number): string => `${(x / 1000).toFixed(2)} s`;

/** A readable report (no record content: generated or not, a labeled set may hold real people). */
export function renderReport(
  e: Evaluation,
  extra: { source: string; generateMs?: number; thresholds: { autoMerge: number; review: number } },
): string {
  const perSecond = e.records / (e.timings.totalMs / 1000);
  const lines = [
    `source            ${extra.source}`,
    `records           ${e.records} (${e.eligible} eligible)`,
    `pairs compared    ${e.pairsCompared}`,
    `true pairs        ${e.truePairs} (${e.truePairsBlocked} share a blocking key: ${pct(e.truePairsBlocked / Math.max(1, e.truePairs))})`,
    `weights           ${e.em ? `EM: ${e.em.iterations} iterations, converged ${e.em.converged}, match rate ${pct(e.em.matchRate)}` : 'configured'}`,
    `thresholds        auto-merge ${extra.thresholds.autoMerge}, review ${extra.thresholds.review}`,
    `merged pairs      ${e.truePositives + e.falsePositives} (${e.truePositives} true, ${e.falsePositives} false)`,
    `precision         ${pct(e.precision)}`,
    `recall            ${pct(e.recall)}`,
    `F1                ${pct(e.f1)}`,
    `review queue      ${e.review.pairs} pairs (${e.review.matches} true matches)`,
    `time              ${ms(e.timings.totalMs)} (prepare ${ms(e.timings.prepareMs)}, blocking ${ms(e.timings.blockingMs)}, compare ${ms(e.timings.compareMs)}, EM ${ms(e.timings.emMs)}, score ${ms(e.timings.scoreMs)})`,
    `records/s         ${Math.round(perSecond)}`,
  ];
  if (extra.generateMs !== undefined) lines.push(`generation        ${ms(extra.generateMs)} (not counted above)`);
  return lines.join('\n');
}
