/**
 * Area under the ROC curve by ranks (Mann-Whitney U): the probability that a random positive
 * scores above a random negative, ties counting half. NaN when one class is absent.
 */
export function auc(scores: readonly number[], labels: readonly boolean[]): number {
  const order = scores.map((s, i) => ({ s, y: labels[i] === true })).sort((a, b) => a.s - b.s);
  let positives = 0;
  let rankSumPositives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && (order[j] as { s: number }).s === (order[i] as { s: number }).s) j++;
    const midRank = (i + 1 + j) / 2; // ranks i+1..j share their average
    for (let k = i; k < j; k++) {
      if ((order[k] as { y: boolean }).y) {
        positives++;
        rankSumPositives += midRank;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean squared difference between predicted probability and outcome (0 is perfect, 0.25 is a coin). */
export function brierScore(probabilities: readonly number[], labels: readonly boolean[]): number {
  if (probabilities.length === 0) return Number.NaN;
  let sum = 0;
  probabilities.forEach((p, i) => {
    const d = p - (labels[i] ? 1 : 0);
    sum += d * d;
  });
  return sum / probabilities.length;
}

export interface ReliabilityBin {
  /** Predicted probabilities in [from, to) (the last bin includes 1). */
  from: number;
  to: number;
  count: number;
  meanPredicted: number | null;
  observedRate: number | null;
}

/** Calibration table: predictions grouped in equal-width bins, mean prediction against the observed rate. */
export function reliabilityTable(probabilities: readonly number[], labels: readonly boolean[], bins = 10): ReliabilityBin[] {
  const sums = Array.from({ length: bins }, () => ({ count: 0, predicted: 0, observed: 0 }));
  probabilities.forEach((p, i) => {
    const b = sums[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))] as { count: number; predicted: number; observed: number };
    b.count++;
    b.predicted += p;
    b.observed += labels[i] ? 1 : 0;
  });
  return sums.map((b, i) => ({
    from: i / bins,
    to: (i + 1) / bins,
    count: b.count,
    meanPredicted: b.count ? b.predicted / b.count : null,
    observedRate: b.count ? b.observed / b.count : null,
  }));
}

/** Expected calibration error: the count-weighted mean gap between prediction and outcome over the bins. */
export function expectedCalibrationError(table: readonly ReliabilityBin[]): number {
  const total = table.reduce((n, b) => n + b.count, 0);
  if (total === 0) return Number.NaN;
  return table.reduce(
    (e, b) =>
      e +
      (b.count && b.meanPredicted !== null && b.observedRate !== null ? (b.count / total) * Math.abs(b.meanPredicted - b.observedRate) : 0),
    0,
  );
}
