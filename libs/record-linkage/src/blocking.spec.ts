import fc from 'fast-check';
import { blockingKeys, candidatePairs } from './blocking';
import { prepareRecord } from './normalize';
import type { PersonRecord } from './record';
import { personRecord } from './test-arbitraries';

/** Changes that do not change what a record says: case, spaces, accents, postal code formatting. */
function restyle(r: PersonRecord, upper: boolean): PersonRecord {
  const t = (s: string | undefined): string | undefined =>
    s === undefined
      ? undefined
      : `  ${(upper ? s.toUpperCase() : s.toLowerCase())
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, '')
          .replace(/ /g, '   ')} `;
  return {
    name: r.name && { first: t(r.name.first), last: t(r.name.last) },
    birthday: r.birthday,
    address: r.address && { ...r.address, postalCode: t(r.address.postalCode), city: t(r.address.city) },
    phone: r.phone?.replace(/\D/g, '-'),
    email: r.email && (upper ? r.email.toUpperCase() : r.email),
  };
}

describe('blocking keys', () => {
  it('are the expected strings', () => {
    const r = prepareRecord({
      name: { first: 'Ana', last: "D'Arcy" },
      birthday: '1980-03-04',
      address: { postalCode: '75 011' },
      phone: '+33 6 12 34 56 78',
      email: 'Ana@Example.com',
    });
    expect(blockingKeys(r)).toEqual(['pc:75011:d', 'bd:1980-03-04', 'sx:D620:1980', 'tel:612345678', 'em:ana@example.com']);
    expect(blockingKeys(prepareRecord({ name: { first: 'Ana' } }))).toEqual([]);
  });
  it('are stable under case, spacing, accents and phone punctuation', () => {
    fc.assert(
      fc.property(personRecord, fc.boolean(), (r, upper) => {
        expect(blockingKeys(prepareRecord(restyle(r, upper)))).toEqual(blockingKeys(prepareRecord(r)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('candidate pairs', () => {
  it('are each pair sharing a key, once, i < j, within the block size cap', () => {
    fc.assert(
      fc.property(fc.array(personRecord, { maxLength: 40 }), fc.integer({ min: 2, max: 10 }), (records, max) => {
        const prepared = records.map(prepareRecord);
        const keys = prepared.map((r) => blockingKeys(r));
        const { pairs, count } = candidatePairs(prepared, { maxBlockSize: max });
        const seen = new Set<string>();
        for (let p = 0; p < count; p++) {
          const [i, j] = [pairs[2 * p], pairs[2 * p + 1]];
          expect(i).toBeLessThan(j);
          expect(keys[i].some((k) => keys[j].includes(k))).toBe(true);
          expect(seen.has(`${i},${j}`)).toBe(false);
          seen.add(`${i},${j}`);
        }
        // Completeness: every pair sharing a key whose block is within the cap is there.
        const size = new Map<string, number>();
        keys.flat().forEach((k) => size.set(k, (size.get(k) ?? 0) + 1));
        for (let i = 0; i < prepared.length; i++)
          for (let j = i + 1; j < prepared.length; j++)
            if (keys[i].some((k) => keys[j].includes(k) && (size.get(k) ?? 0) <= max)) expect(seen.has(`${i},${j}`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
  it('leave excluded records out', () => {
    const r = prepareRecord({ name: { last: 'Lee' }, birthday: '1990-01-02' });
    expect(candidatePairs([r, r, r]).count).toBe(3);
    expect(candidatePairs([r, r, r], { include: (i) => i !== 1 }).count).toBe(1);
  });
});
