import fc from 'fast-check';
import { independentGroups, mapLimit } from './independent-groups';

const items = fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { maxLength: 3 }), { maxLength: 30 });

describe('independentGroups', () => {
  it('puts every item in exactly one group, in order within each group', () => {
    fc.assert(
      fc.property(items, (nodes) => {
        const groups = independentGroups(nodes);
        expect(groups.flat().sort((a, b) => a - b)).toEqual(nodes.map((_, i) => i));
        for (const g of groups) expect([...g].sort((a, b) => a - b)).toEqual(g);
      }),
    );
  });

  it('never separates two items that share a node, and never joins groups that share none', () => {
    fc.assert(
      fc.property(items, (nodes) => {
        const groups = independentGroups(nodes);
        const groupOf = new Map(groups.flatMap((g, gi) => g.map((i) => [i, gi] as const)));
        nodes.forEach((a, i) =>
          nodes.forEach((b, j) => {
            if (a.some((n) => b.includes(n))) expect(groupOf.get(i)).toBe(groupOf.get(j));
          }),
        );
        const nodeSets = groups.map((g) => new Set(g.flatMap((i) => nodes[i] ?? [])));
        nodeSets.forEach((s, x) => nodeSets.forEach((t, y) => x !== y && expect([...s].some((n) => t.has(n))).toBe(false)));
      }),
    );
  });

  it('joins items through a chain of shared nodes', () => {
    expect(independentGroups([['a'], ['c'], ['b'], ['a', 'b'], []])).toEqual([[0, 2, 3], [1], [4]]);
  });
});

describe('mapLimit', () => {
  it('keeps the order of results and never runs more than the limit at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(5), { maxLength: 20 }), fc.integer({ min: 1, max: 4 }), async (delays, limit) => {
        let running = 0;
        let peak = 0;
        const out = await mapLimit(delays, limit, async (d) => {
          peak = Math.max(peak, ++running);
          await new Promise((r) => setTimeout(r, d));
          running--;
          return d * 2;
        });
        expect(out).toEqual(delays.map((d) => d * 2));
        expect(peak).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 30 },
    );
  });

  it('after a failure starts no further item and rejects only once the running ones have settled', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await new Promise((r) => setTimeout(r, i === 1 ? 5 : 20));
      settled.push(i);
      if (i === 1) throw new Error('item 1 failed');
      return i;
    });
    await expect(run).rejects.toThrow('item 1 failed');
    // Item 1 fails while item 0 runs: item 0 is awaited, no item after them starts.
    expect(started).toEqual([0, 1]);
    expect(settled.sort()).toEqual([0, 1]);
  });
});
