import fc from 'fast-check';
import { candidatePairs } from './blocking';
import { compareRecords } from './comparators';
import { estimateParameters, estimateWeights, PatternCounts } from './em';
import { generateLabeledRecords } from './generator';
import { AGREE, DISAGREE, FIELDS, MISSING } from './levels';
import { DEFAULT_MATCHING_CONFIG, decide, RecordMatcher, scoreVector, weightTable, type Decision, type MatchingConfig } from './model';
import { isEligible, prepareRecord } from './normalize';

const RANK: Record<Decision, number> = { none: 0, review: 1, merge: 2 };
const vector = fc.uint8Array({ min: 0, max: 3, minLength: FIELDS.length, maxLength: FIELDS.length });

// A small generated set, shared by the EM tests (estimation is what they check, not speed).
const labeled = generateLabeledRecords({ records: 3000, seed: 11 });
const prepared = labeled.map((l) => prepareRecord(l.record));
const eligible = prepared.map(isEligible);
const { pairs, count } = candidatePairs(prepared, { include: (i) => eligible[i] });
const patterns = new PatternCounts();
for (let p = 0; p < count; p++) patterns.add(compareRecords(prepared[pairs[2 * p]], prepared[pairs[2 * p + 1]]));
const estimated: MatchingConfig = { ...DEFAULT_MATCHING_CONFIG, ...estimateWeights(prepared, patterns, { uSamples: 20_000 }) };

describe.each([
  ['default weights', DEFAULT_MATCHING_CONFIG],
  ['estimated weights', estimated],
])('Fellegi-Sunter score with %s', (_name, config) => {
  const weights = weightTable(config);
  it('is monotone in agreement: raising one compared field never lowers the score or the decision', () => {
    fc.assert(
      fc.property(vector, fc.integer({ min: 0, max: FIELDS.length - 1 }), fc.integer({ min: DISAGREE, max: AGREE }), (v, field, to) => {
        fc.pre(v[field] !== MISSING && v[field] < to);
        const w = Uint8Array.from(v);
        w[field] = to;
        const before = scoreVector(v, weights);
        const after = scoreVector(w, weights);
        expect(after).toBeGreaterThanOrEqual(before);
        expect(RANK[decide(after, w, config)]).toBeGreaterThanOrEqual(RANK[decide(before, v, config)]);
      }),
      { numRuns: 1000 },
    );
  });
  it('weighs an agreement positive and a disagreement negative, a missing field zero', () => {
    for (const f of FIELDS) {
      expect(weights[f][AGREE]).toBeGreaterThan(0);
      expect(weights[f][DISAGREE]).toBeLessThan(0);
      expect(weights[f][MISSING]).toBe(0);
    }
  });
});

describe('EM', () => {
  it('converges to m > u on agreement and m < u on disagreement for every field', () => {
    const em = estimateParameters(patterns);
    expect(em.converged).toBe(true);
    expect(em.matchRate).toBeGreaterThan(0.01);
    expect(em.matchRate).toBeLessThan(0.9);
    for (const f of FIELDS) {
      expect(em.fields[f].m.agree).toBeGreaterThan(em.fields[f].u.agree);
      expect(em.fields[f].m.disagree).toBeLessThan(em.fields[f].u.disagree);
      const { m, u } = em.fields[f];
      expect(m.agree + m.partial + m.disagree).toBeCloseTo(1, 9);
      expect(u.agree + u.partial + u.disagree).toBeCloseTo(1, 9);
    }
  });
  it('does not depend on the order of the pairs and recovers the match share of its own model', () => {
    // Pairs drawn from a known two-class model: EM should find its match rate back.
    const truth = { rate: 0.3, m: [0.05, 0.15, 0.8], u: [0.85, 0.1, 0.05] };
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const draw = (p: number[]): number => {
      const r = rand();
      return r < p[0] ? DISAGREE : r < p[0] + p[1] ? 2 : AGREE;
    };
    const a = new PatternCounts();
    const rows: Uint8Array[] = [];
    for (let i = 0; i < 20000; i++) {
      const match = rand() < truth.rate;
      rows.push(Uint8Array.from(FIELDS.map(() => draw(match ? truth.m : truth.u))));
    }
    rows.forEach((r) => a.add(r));
    const b = new PatternCounts();
    [...rows].reverse().forEach((r) => b.add(r));
    const x = estimateParameters(a, { initialMatchRate: 0.5 });
    expect(estimateParameters(b, { initialMatchRate: 0.5 }).matchRate).toBeCloseTo(x.matchRate, 9);
    expect(x.matchRate).toBeGreaterThan(0.27);
    expect(x.matchRate).toBeLessThan(0.33);
    expect(x.fields.first.m.agree).toBeGreaterThan(0.75);
    expect(x.fields.first.u.agree).toBeLessThan(0.1);
  });
});

describe('RecordMatcher', () => {
  const matcher = new RecordMatcher();
  const crm = matcher.prepare({
    name: { first: 'Robert', last: 'Müller' },
    birthday: '1975-06-14',
    address: { street: 'Hauptstraße 5', postalCode: '10115', city: 'Berlin' },
    phone: '+49 151 12345678',
  });
  it('merges a messy duplicate and explains the score field by field', () => {
    const identify = matcher.prepare({
      name: { first: 'bob', last: 'MUELLER' },
      birthday: '1975-06-14',
      address: { postalCode: '10115' },
      phone: '015112345678',
    });
    const s = matcher.score(identify, crm);
    expect(s.decision).toBe('merge');
    expect(s.contributions.map((c) => [c.field, c.level])).toEqual([
      ['first', 'agree'],
      ['last', 'partial'],
      ['birthday', 'agree'],
      ['postalCode', 'agree'],
      ['phone', 'agree'],
    ]);
    expect(s.contributions.reduce((a, c) => a + c.weight, 0)).toBeCloseTo(s.score, 2);
  });
  it('does not auto-merge a relative who shares last name, address and phone', () => {
    const son = matcher.prepare({
      name: { first: 'Robert', last: 'Müller' },
      birthday: '2001-02-03',
      address: { street: 'Hauptstr. 5', postalCode: '10115' },
      phone: '+4915112345678',
    });
    expect(matcher.score(son, crm).decision).toBe('review');
    const wife = matcher.prepare({
      name: { first: 'Anna', last: 'Müller' },
      address: { street: 'Hauptstr. 5', postalCode: '10115' },
      phone: '+4915112345678',
    });
    expect(matcher.score(wife, crm).decision).not.toBe('merge');
    const unnamed = matcher.prepare({
      name: { last: 'Müller' },
      address: { street: 'Hauptstr. 5', postalCode: '10115' },
      phone: '+4915112345678',
    });
    expect(matcher.score(unnamed, crm).decision).toBe('review');
  });
  it('does not auto-merge on a name and a postal code alone: strangers with common names share them', () => {
    const namesake = { name: { first: 'John', last: 'Smith' }, address: { postalCode: '10115', city: 'Berlin' } };
    const a = matcher.prepare(namesake);
    const b = matcher.prepare({ ...namesake, email: 'js@example.com' });
    const alone = matcher.score(a, b);
    expect(alone.score).toBeGreaterThanOrEqual(DEFAULT_MATCHING_CONFIG.autoMergeThreshold);
    expect(alone.decision).toBe('review');
    // One field that tells people apart, agreeing, is enough; the guard can be switched off.
    expect(
      matcher.score(matcher.prepare({ ...namesake, birthday: '1980-01-02' }), matcher.prepare({ ...namesake, birthday: '1980-01-02' }))
        .decision,
    ).toBe('merge');
    expect(new RecordMatcher({ ...DEFAULT_MATCHING_CONFIG, requireAgreementOn: [] }).score(a, b).decision).toBe('merge');
  });
  it('ranks candidates best first, deterministically, leaving out non-matches', () => {
    const stranger = matcher.prepare({ name: { first: 'Jane', last: 'Doe' }, birthday: '1990-01-01', phone: '+14155552671' });
    const ranked = matcher.rank(matcher.prepare({ name: { first: 'Robert', last: 'Muller' }, birthday: '1975-06-14' }), [
      { id: 'b', record: stranger },
      { id: 'a', record: crm },
    ]);
    expect(ranked.map((r) => r.candidate.id)).toEqual(['a']);
  });
});
