import fc from 'fast-check';
import { CoalescedCounts, type Delta } from './coalesced-counts';

/** A store whose writes finish when the test says so. */
function slowStore(fail: (key: string, n: number) => boolean = () => false) {
  const totals = new Map<string, Delta>();
  const writes: { key: string; delta: Delta; finish: () => void }[] = [];
  const write = (key: string, delta: Delta) =>
    new Promise<void>((resolve, reject) =>
      writes.push({
        key,
        delta: { ...delta },
        finish: () => {
          if (fail(key, writes.length)) return reject(new Error(`write of ${key} failed`));
          const t = totals.get(key) ?? { entered: 0, exited: 0 };
          totals.set(key, { entered: t.entered + delta.entered, exited: t.exited + delta.exited });
          resolve();
        },
      }),
    );
  return { totals, writes, counts: new CoalescedCounts<string>(write, (k) => k) };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('CoalescedCounts', () => {
  it('writes at once, then sums what arrives while a write is out into one next write', async () => {
    const { totals, writes, counts } = slowStore();
    const first = counts.add('a', 'entered');
    const later = [counts.add('a', 'entered'), counts.add('a', 'exited'), counts.add('a', 'entered'), counts.add('b', 'exited')];
    expect(writes.map((w) => [w.key, w.delta])).toEqual([
      ['a', { entered: 1, exited: 0 }],
      ['b', { entered: 0, exited: 1 }],
    ]);
    let laterDone = false;
    void Promise.all(later).then(() => (laterDone = true));
    writes[0]?.finish();
    await first;
    await settle();
    expect(laterDone).toBe(false);
    expect(writes[2]).toMatchObject({ key: 'a', delta: { entered: 2, exited: 1 } });
    writes[1]?.finish();
    writes[2]?.finish();
    await Promise.all(later);
    expect(totals.get('a')).toEqual({ entered: 3, exited: 1 });
  });

  it('rejects the adds of a failed write only, and goes on with the next', async () => {
    const { totals, writes, counts } = slowStore((_key, n) => n === 1);
    const failed = counts.add('a', 'entered');
    const next = counts.add('a', 'entered');
    writes[0]?.finish();
    await expect(failed).rejects.toThrow('write of a failed');
    await settle();
    writes[1]?.finish();
    await next;
    expect(totals.get('a')).toEqual({ entered: 1, exited: 0 });
  });

  it('stores exactly the adds, whatever the order of adds and finished writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom<keyof Delta>('entered', 'exited'), fc.boolean())),
        async (ops) => {
          const { totals, writes, counts } = slowStore();
          const expected = new Map<string, Delta>();
          const all: Promise<void>[] = [];
          let finished = 0;
          for (const [key, field, finishOne] of ops) {
            all.push(counts.add(key, field));
            const e = expected.get(key) ?? { entered: 0, exited: 0 };
            e[field]++;
            expected.set(key, e);
            if (finishOne && finished < writes.length) writes[finished++]?.finish();
            await settle();
          }
          // Finish every write, and the writes that finishing starts, until none is left.
          for (;;) {
            while (finished < writes.length) writes[finished++]?.finish();
            await settle();
            if (finished === writes.length) break;
          }
          await Promise.all(all);
          expect(new Map([...totals].sort())).toEqual(new Map([...expected].sort()));
          // At most one write in flight per key: never more writes than adds.
          expect(writes.length).toBeLessThanOrEqual(ops.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});
