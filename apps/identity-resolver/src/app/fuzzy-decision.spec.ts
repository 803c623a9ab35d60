import fc from 'fast-check';
import { isEligible, prepareRecord, RecordMatcher, type PersonRecord } from '@cdp/record-linkage';
import { candidateIds, decideFuzzy, keysToAdd, pairKey, type Block, type LinkageCandidate } from './fuzzy-decision';
import { effectiveFuzzy, fuzzyProblems, fuzzySettings } from './fuzzy-rules';
import { personRecordOf } from './person-record';

const matcher = new RecordMatcher();
const profileId = fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6');
const block: fc.Arbitrary<Block> = fc.record({
  key: fc.constantFrom('bd:1980-01-02', 'pc:75011:d', 'tel:612345678', 'sx:D200:1980'),
  profileIds: fc.uniqueArray(profileId, { maxLength: 6 }),
});
const blocks = fc.uniqueArray(block, { selector: (b) => b.key, maxLength: 4 });

const jane: PersonRecord = {
  name: { first: 'Jane', last: 'Doe' },
  birthday: '1980-01-02',
  address: { street: '12 Main St', postalCode: '75011' },
};
const janeTypo: PersonRecord = { name: { first: 'Jnae', last: 'Doe' }, birthday: '1980-01-02', address: { postalCode: '75011' } };
const john: PersonRecord = {
  name: { first: 'John', last: 'Doe' },
  birthday: '1952-07-30',
  address: { street: '12 Main Street', postalCode: '75011' },
};

describe('candidateIds / keysToAdd', () => {
  it('takes every profile of the blocks within the cap and none of a larger block', () => {
    fc.assert(
      fc.property(blocks, fc.integer({ min: 1, max: 6 }), (bs, cap) => {
        const ids = candidateIds(bs, cap);
        const allowed = new Set(bs.filter((b) => b.profileIds.length <= cap).flatMap((b) => b.profileIds));
        expect(new Set(ids)).toEqual(allowed);
        expect(ids).toEqual([...new Set(ids)].sort());
      }),
    );
  });

  it('fills a block up to cap + 1 and no further, each profile once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(profileId, fc.subarray(['a', 'b', 'c'], { minLength: 1 }))),
        fc.integer({ min: 1, max: 4 }),
        (adds, cap) => {
          const store = new Map<string, string[]>();
          for (const [id, keys] of adds) {
            const current = [...store].map(([key, profileIds]) => ({ key, profileIds }));
            for (const k of keysToAdd(keys, current, id, cap)) store.set(k, [...(store.get(k) ?? []), id]);
          }
          for (const [key, ids] of store) {
            expect(ids.length).toBeLessThanOrEqual(cap + 1);
            expect(new Set(ids).size).toBe(ids.length);
            // Every profile that came while the block had room is in it.
            const seen = [...new Set(adds.filter(([, ks]) => ks.includes(key)).map(([id]) => id))];
            expect(ids).toEqual(seen.slice(0, cap + 1));
          }
        },
      ),
    );
  });
});

describe('decideFuzzy', () => {
  const candidate = (id: string, canonical: string | undefined, r: PersonRecord): LinkageCandidate => ({
    profileId: id,
    canonical,
    record: prepareRecord(r),
  });
  // A linkage record per profile (its natural key), each under one canonical profile or none (not stored).
  const arbCandidates = fc.uniqueArray(
    fc.record({
      profileId,
      canonical: fc.option(profileId, { nil: undefined }),
      person: fc.constantFrom(jane, janeTypo, john),
    }),
    { maxLength: 6, selector: (c) => c.profileId },
  );

  it('never picks the own profile or an unstored one, and the order of candidates does not matter', () => {
    fc.assert(
      fc.property(arbCandidates, profileId, fc.constantFrom(jane, janeTypo, john), fc.integer(), (cs, own, person, seed) => {
        const list = cs.map((c) => candidate(c.profileId, c.canonical, c.person));
        const outcome = decideFuzzy(matcher, prepareRecord(person), own, list);
        if (outcome.kind !== 'none') {
          expect(outcome.candidateProfileId).not.toBe(own);
          expect(list.some((c) => c.canonical === outcome.candidateProfileId)).toBe(true);
          expect(outcome.score.fields.reduce((s, f) => s + f.weight, 0)).toBeCloseTo(outcome.score.total, 1);
        }
        const shuffled = fc.sample(fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }), { seed, numRuns: 1 })[0];
        expect(decideFuzzy(matcher, prepareRecord(person), own, shuffled ?? list)).toEqual(outcome);
      }),
    );
  });

  it('merges a typo in the first name with the same birthday and postal code, with each field contribution', () => {
    const outcome = decideFuzzy(matcher, prepareRecord(janeTypo), 'p2', [candidate('p1', 'p0', jane)]);
    expect(outcome.kind).toBe('merge');
    if (outcome.kind === 'none') return;
    expect(outcome.candidateProfileId).toBe('p0');
    expect(outcome.score.fields.map((f) => f.field)).toEqual(expect.arrayContaining(['first', 'last', 'birthday', 'postalCode']));
  });

  it('does not merge relatives (same last name and address, another first name and birthday)', () => {
    expect(decideFuzzy(matcher, prepareRecord(john), 'p2', [candidate('p1', 'p1', jane)]).kind).not.toBe('merge');
  });

  it('leaves a candidate already in the own profile alone', () => {
    expect(decideFuzzy(matcher, prepareRecord(jane), 'p1', [candidate('p9', 'p1', jane)])).toEqual({ kind: 'none' });
  });

  it('pairKey is symmetric', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => expect(pairKey(a, b)).toBe(pairKey(b, a))));
  });
});

describe('fuzzy rules', () => {
  it('defaults: on, conservative thresholds, cap 50', () => {
    expect(effectiveFuzzy(undefined)).toMatchObject({ enabled: true, maxBlockSize: 50, autoMergeThreshold: 18, reviewThreshold: 8 });
    expect(fuzzySettings({ enabled: false }).enabled).toBe(false);
  });

  it('names each invalid setting', () => {
    expect(fuzzyProblems({})).toEqual([]);
    expect(fuzzyProblems({ enabled: true, autoMergeThreshold: 20, reviewThreshold: 10, maxBlockSize: 10 })).toEqual([]);
    expect(fuzzyProblems({ enabled: 'yes' })).toEqual(['fuzzy.enabled must be true or false']);
    expect(fuzzyProblems({ maxBlockSize: 0 })[0]).toMatch(/^fuzzy.maxBlockSize/);
    expect(fuzzyProblems({ autoMergeThreshold: 5, reviewThreshold: 10 })).toEqual([
      'fuzzy.reviewThreshold: must not exceed autoMergeThreshold',
    ]);
    expect(fuzzyProblems({ colour: 'red' })).toEqual(['fuzzy.colour: unknown setting']);
    expect(fuzzyProblems([])).toEqual(['fuzzy must be an object']);
  });

  it('takes the thresholds set by the workspace', () => {
    const s = fuzzySettings({ autoMergeThreshold: 30, reviewThreshold: 12 });
    expect([s.matcher.config.autoMergeThreshold, s.matcher.config.reviewThreshold]).toEqual([30, 12]);
  });
});

describe('personRecordOf', () => {
  const identify = (traits: unknown) => ({ type: 'identify' as const, traits: JSON.stringify(traits) });

  it('reads Segment traits (and snake_case variants) into an eligible record', () => {
    const r = personRecordOf(
      identify({
        firstName: 'Jane',
        last_name: 'Doe',
        birthday: '1980-01-02',
        address: { postal_code: '75011', city: 'Paris' },
        email: 'j@x.io',
      }),
    );
    expect(r).toEqual({ name: { first: 'Jane', last: 'Doe' }, birthday: '1980-01-02', address: { postalCode: '75011', city: 'Paris' } });
    expect(isEligible(prepareRecord(r as PersonRecord))).toBe(true);
  });

  it('splits a full name at its last space', () => {
    expect(personRecordOf(identify({ name: 'Anne Marie Doe', phone: '+33612345678' }))).toEqual({
      name: { first: 'Anne Marie', last: 'Doe' },
      phone: '+33612345678',
    });
  });

  it('ignores other calls, malformed traits and non-objects, never throws', () => {
    expect(personRecordOf({ type: 'track', traits: '{"name":"Jane Doe"}' })).toBeNull();
    expect(personRecordOf({ type: 'identify', traits: '{' })).toBeNull();
    expect(personRecordOf({ type: 'identify', traits: '[1]' })).toBeNull();
    fc.assert(fc.property(fc.json(), (json) => void personRecordOf({ type: 'identify', traits: json })));
  });
});
