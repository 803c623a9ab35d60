import fc from 'fast-check';
import { CoalescedReads } from './coalesced-reads';

type Doc = { key: string; n: number };

/** A reader over `store` that records each round trip's keys and answers after `delayMs`. */
function reader(store: Map<string, Doc>, delayMs = 1) {
  const calls: string[][] = [];
  const reads = new CoalescedReads<string, Doc>(
    async (keys) => {
      calls.push(keys);
      // The database answers as of when the read arrived.
      const docs = keys.flatMap((k) => store.get(k) ?? []);
      await new Promise((r) => setTimeout(r, delayMs));
      return docs;
    },
    (k) => k,
    (d) => d.key,
  );
  return { reads, calls };
}

describe('CoalescedReads', () => {
  it('sends the reads asked at once in one round trip and gives each asker its own documents', async () => {
    const store = new Map(['a', 'b', 'c'].map((key, n) => [key, { key, n }]));
    const { reads, calls } = reader(store);
    const [x, y, z] = await Promise.all([reads.get(['a', 'b']), reads.get(['b', 'zz']), reads.get(['c', 'c'])]);
    expect(calls).toEqual([['a', 'b', 'zz', 'c']]);
    expect(x.map((d) => d.key)).toEqual(['a', 'b']);
    expect(y.map((d) => d.key)).toEqual(['b']);
    expect(z.map((d) => d.key)).toEqual(['c']);
  });

  it('sends a read asked during a flight after that flight, so it sees what was written before it was asked', async () => {
    const store = new Map([['a', { key: 'a', n: 1 }]]);
    const { reads, calls } = reader(store, 20);
    const first = reads.get(['a']);
    await new Promise((r) => setTimeout(r, 5));
    store.set('a', { key: 'a', n: 2 });
    const second = reads.get(['a']);
    expect((await first)[0]?.n).toBe(1);
    expect((await second)[0]?.n).toBe(2);
    expect(calls).toEqual([['a'], ['a']]);
  });

  it('fails only the askers of the failed round trip', async () => {
    let fail = true;
    const reads = new CoalescedReads<string, Doc>(
      async (keys) => {
        await new Promise((r) => setTimeout(r, 5));
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
        return keys.map((key) => ({ key, n: 0 }));
      },
      (k) => k,
      (d) => d.key,
    );
    const a = reads.get(['a']);
    await new Promise((r) => setTimeout(r, 1));
    const b = reads.get(['b']);
    await expect(a).rejects.toThrow('boom');
    await expect(b).resolves.toEqual([{ key: 'b', n: 0 }]);
  });

  it('answers every asker exactly what a read of its own would, however the asks interleave', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'x'), { maxLength: 5 }), fc.nat(3)), { maxLength: 12 }),
        async (asks) => {
          const store = new Map(['a', 'b', 'c', 'd'].map((key, n) => [key, { key, n }]));
          const { reads } = reader(store, 1);
          const answers = await Promise.all(
            asks.map(async ([keys, wait]) => {
              await new Promise((r) => setTimeout(r, wait));
              return reads.get(keys);
            }),
          );
          asks.forEach(([keys], i) => {
            const own = [...new Set(keys)].flatMap((k) => store.get(k) ?? []);
            expect(answers[i]).toEqual(own);
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});
