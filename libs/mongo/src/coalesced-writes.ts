import type { AnyBulkWriteOperation, BulkWriteResult, Document } from 'mongodb';
import { indexesBy } from '@cdp/platform';
import { Coalescer } from './coalescer';

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
  private readonly writes: Coalescer<Op[], boolean>;

  constructor(write: (ops: Op[]) => Promise<boolean[]>) {
    this.writes = new Coalescer<Op[], boolean>(async (asks) => {
      let applied: boolean[] = [];
      try {
        applied = await write(asks.flat());
      } catch {
        // The askers' own paths find out what happened (and report a lasting failure themselves).
      }
      let at = 0;
      return asks.map((ops) => {
        const all = ops.every((_, i) => applied[at + i] === true);
        at += ops.length;
        return all;
      });
    });
  }

  run(ops: Op[]): Promise<boolean> {
    return ops.length === 0 ? Promise.resolve(true) : this.writes.ask(ops);
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
  const groups = indexesBy(ops, (op) => op.ws);
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

/**
 * Update operations (upserts included) of concurrent askers, one unordered bulk per workspace
 * through the repository's `bulkWrite`; see CoalescedWrites for what an asker does on `false`.
 */
export const coalescedUpdates = <T extends Document>(
  bulkWrite: (ws: string, ops: AnyBulkWriteOperation<T>[]) => Promise<BulkWriteResult | null>,
) =>
  new CoalescedWrites<{ ws: string; op: AnyBulkWriteOperation<T> }>((ops) =>
    perWorkspace(ops, async (ws, group) =>
      updatesApplied(
        group.length,
        await bulkWrite(
          ws,
          group.map((o) => o.op),
        ),
      ),
    ),
  );
