/**
 * Writes asked while a bulk write is in flight go out together as the next unordered bulk write,
 * so the concurrent resolutions of a chunk share their round trips. The writer tells, per
 * operation, whether it is known to have done what its asker meant (matched, upserted or inserted
 * its one document). An asker learns `true` when all of its operations are, else `false` (one was
 * not, or the bulk failed: e.g. FerretDB stops an update command at a duplicate key, leaving the
 * rest unrun); on `false` it runs its own single-command path, which must be idempotent (what the
 * bulk did may already be applied: compare-and-set filters, upserts with $setOnInsert, guarded counts).
 */
export class CoalescedWrites<Op> {
  private pending: { ops: Op[]; resolve: (allApplied: boolean) => void }[] = [];
  private flushing = false;

  constructor(private readonly write: (ops: Op[]) => Promise<boolean[]>) {}

  run(ops: Op[]): Promise<boolean> {
    if (ops.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      this.pending.push({ ops, resolve });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        // Let the askers of this turn of the event loop join the first write too.
        await new Promise<void>((r) => setImmediate(r));
        const batch = this.pending.splice(0);
        let applied: boolean[] = [];
        try {
          applied = await this.write(batch.flatMap((p) => p.ops));
        } catch {
          // The askers' own paths find out what happened (and report a lasting failure themselves).
        }
        let at = 0;
        for (const p of batch) {
          p.resolve(p.ops.every((_, i) => applied[at + i] === true));
          at += p.ops.length;
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/**
 * Per operation of an update bulk: a bulk result only has totals, and each operation matches or
 * upserts at most one document, so all are known applied only when the totals say every one was.
 */
export const updatesApplied = (n: number, r: { matchedCount: number; upsertedCount: number } | null): boolean[] =>
  new Array<boolean>(n).fill(r !== null && r.matchedCount + r.upsertedCount === n);

/** Runs one write per workspace (a coalesced bulk may span workspaces); the answers in the operations' order. */
export async function perWorkspace<Op extends { ws: string }>(
  ops: Op[],
  write: (ws: string, ops: Op[]) => Promise<boolean[]>,
): Promise<boolean[]> {
  const groups = new Map<string, number[]>();
  ops.forEach((op, i) => groups.set(op.ws, [...(groups.get(op.ws) ?? []), i]));
  const out = new Array<boolean>(ops.length).fill(false);
  await Promise.all(
    [...groups].map(async ([ws, indexes]) => {
      const applied = await write(
        ws,
        indexes.map((i) => ops[i] as Op),
      );
      indexes.forEach((i, k) => (out[i] = applied[k] === true));
    }),
  );
  return out;
}
