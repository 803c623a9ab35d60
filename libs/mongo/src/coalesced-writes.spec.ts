import fc from 'fast-check';
import { CoalescedWrites, perWorkspace, updatesApplied } from './coalesced-writes';

/** A fake store of counters: an op `{key, expect}` applies when the key's value is `expect` (a compare-and-set). */
type Op = { ws: string; key: string; expect: number };

function store() {
  const values = new Map<string, number>();
  const bulks: Op[][] = [];
  /** Like an update bulk: only the total of matched documents is known. */
  const write = async (ops: Op[]): Promise<boolean[]> => {
    bulks.push(ops);
    let matched = 0;
    for (const op of ops) {
      const k = `${op.ws}/${op.key}`;
      if ((values.get(k) ?? 0) === op.expect) {
        values.set(k, op.expect + 1);
        matched++;
      }
    }
    await new Promise((r) => setTimeout(r, 2));
    return updatesApplied(ops.length, { matchedCount: matched, upsertedCount: 0 });
  };
  return { values, bulks, write };
}

describe('CoalescedWrites', () => {
  it('sends the writes asked at once as one bulk and answers true when every operation applied', async () => {
    const s = store();
    const writes = new CoalescedWrites<Op>(s.write);
    const answers = await Promise.all([
      writes.run([{ ws: 'w', key: 'a', expect: 0 }]),
      writes.run([
        { ws: 'w', key: 'b', expect: 0 },
        { ws: 'w', key: 'c', expect: 0 },
      ]),
    ]);
    expect(answers).toEqual([true, true]);
    expect(s.bulks).toHaveLength(1);
    expect(s.bulks[0]).toHaveLength(3);
  });

  it('answers false to every asker of a bulk in which one operation did not apply', async () => {
    const s = store();
    s.values.set('w/b', 5);
    const writes = new CoalescedWrites<Op>(s.write);
    const answers = await Promise.all([writes.run([{ ws: 'w', key: 'a', expect: 0 }]), writes.run([{ ws: 'w', key: 'b', expect: 0 }])]);
    expect(answers).toEqual([false, false]);
    // What did apply stays applied: the askers' own paths must be idempotent.
    expect(s.values.get('w/a')).toBe(1);
  });

  it('answers false (not an error) when the bulk fails, and carries on with the next bulk', async () => {
    let fail = true;
    const writes = new CoalescedWrites<Op>(async (ops) => {
      await new Promise((r) => setTimeout(r, 2));
      if (fail) {
        fail = false;
        throw new Error('E11000 duplicate key');
      }
      return ops.map(() => true);
    });
    const first = writes.run([{ ws: 'w', key: 'a', expect: 0 }]);
    await new Promise((r) => setTimeout(r, 1));
    const second = writes.run([{ ws: 'w', key: 'b', expect: 0 }]);
    expect(await first).toBe(false);
    expect(await second).toBe(true);
  });

  it('answers true only to askers whose operations all applied, and sends each operation once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('w1', 'w2'), fc.constantFrom('a', 'b', 'c'), fc.nat(2), fc.nat(3)), { maxLength: 15 }),
        async (asks) => {
          const s = store();
          const appliedOps = new Set<Op>();
          const writes = new CoalescedWrites<Op>(async (ops) => {
            const before = new Map(ops.map((op) => [op, s.values.get(`${op.ws}/${op.key}`) ?? 0]));
            const counts = await s.write(ops);
            // An op applied when its key moved past its expectation (ops apply in order, each at most once).
            for (const op of ops)
              if ((s.values.get(`${op.ws}/${op.key}`) ?? 0) > op.expect && (before.get(op) ?? 0) <= op.expect) appliedOps.add(op);
            return counts;
          });
          const ops = asks.map(([ws, key, expect]) => ({ ws, key, expect }));
          const answers = await Promise.all(
            asks.map(async ([, , , wait], i) => {
              await new Promise((r) => setTimeout(r, wait));
              return writes.run([ops[i] as Op]);
            }),
          );
          answers.forEach((ok, i) => {
            if (ok) expect(appliedOps.has(ops[i] as Op)).toBe(true);
          });
          const sent = s.bulks.flat();
          expect(sent).toHaveLength(ops.length);
          expect(new Set(sent)).toEqual(new Set(ops));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('answers each asker from its own operations when the writer knows them one by one (inserts)', async () => {
    const writes = new CoalescedWrites<Op>(async (ops) => ops.map((op) => op.key !== 'taken'));
    const answers = await Promise.all([
      writes.run([{ ws: 'w', key: 'a', expect: 0 }]),
      writes.run([
        { ws: 'w', key: 'b', expect: 0 },
        { ws: 'w', key: 'taken', expect: 0 },
      ]),
      writes.run([{ ws: 'w', key: 'c', expect: 0 }]),
    ]);
    expect(answers).toEqual([true, false, true]);
  });

  it('writes once per workspace and answers in the operations order', async () => {
    const seen: string[] = [];
    const applied = await perWorkspace(
      [
        { ws: 'a', n: 1 },
        { ws: 'b', n: 2 },
        { ws: 'a', n: 3 },
      ],
      async (ws, ops) => {
        seen.push(`${ws}:${ops.map((o) => o.n).join(',')}`);
        return ops.map((o) => o.n !== 3);
      },
    );
    expect(seen.sort()).toEqual(['a:1,3', 'b:2']);
    expect(applied).toEqual([true, true, false]);
  });

  it('knows an update bulk applied only when its totals count every operation', () => {
    expect(updatesApplied(3, { matchedCount: 2, upsertedCount: 1 })).toEqual([true, true, true]);
    expect(updatesApplied(3, { matchedCount: 2, upsertedCount: 0 })).toEqual([false, false, false]);
    expect(updatesApplied(1, null)).toEqual([false]);
  });
});
