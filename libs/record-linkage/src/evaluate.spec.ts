import { evaluate } from './evaluate';
import { generateLabeledRecords } from './generator';
import { DEFAULT_MATCHING_CONFIG } from './model';

describe('generator', () => {
  it('is deterministic for a seed and labels every record', () => {
    const a = generateLabeledRecords({ records: 500, seed: 3 });
    expect(a).toHaveLength(500);
    expect(generateLabeledRecords({ records: 500, seed: 3 })).toEqual(a);
    expect(generateLabeledRecords({ records: 500, seed: 4 })).not.toEqual(a);
    expect(new Set(a.map((r) => r.id)).size).toBe(500);
    const perPerson = new Map<string, number>();
    a.forEach((r) => perPerson.set(r.entityId, (perPerson.get(r.entityId) ?? 0) + 1));
    expect(perPerson.size).toBeLessThan(400); // duplicates exist
    expect(Math.max(...perPerson.values())).toBeLessThanOrEqual(5);
  });
});

describe('evaluate', () => {
  const data = generateLabeledRecords({ records: 4000, seed: 5 });
  it('counts pairs against the labels and meets the targets on a held-out seed', () => {
    const e = evaluate(data, { estimate: true, uSamples: 50_000 });
    expect(e.truePositives + e.falsePositives).toBeGreaterThan(0);
    expect(e.truePairsBlocked).toBeLessThanOrEqual(e.truePairs);
    expect(e.truePositives).toBeLessThanOrEqual(e.truePairsBlocked);
    expect(e.precision).toBeCloseTo(e.truePositives / (e.truePositives + e.falsePositives), 12);
    expect(e.precision).toBeGreaterThanOrEqual(0.98);
    expect(e.f1).toBeGreaterThanOrEqual(0.93);
  });
  it('trades recall for precision as the auto-merge threshold rises', () => {
    const low = evaluate(data, { config: { ...DEFAULT_MATCHING_CONFIG, autoMergeThreshold: 5 } });
    const high = evaluate(data, { config: { ...DEFAULT_MATCHING_CONFIG, autoMergeThreshold: 30 } });
    expect(high.recall).toBeLessThan(low.recall);
    expect(high.falsePositives).toBeLessThanOrEqual(low.falsePositives);
  });
});
