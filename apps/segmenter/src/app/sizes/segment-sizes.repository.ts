import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, IndexDescription } from 'mongodb';
import { Coalescer, isDuplicateKey, MongoConnection, perWorkspace, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';
import type { Transition } from '../membership/transition';
import { CoalescedCounts, type Delta } from './coalesced-counts';
import { DAY_MS, dayOf, lastDays, sizeHistory, type DayCounts, type SizeDay } from './size-history';

export interface SegmentSizeDocument extends WorkspaceDocument, DayCounts {
  segmentId: string;
  /** `YYYY-MM-DD` (UTC) of the transitions' evaluation time, or TOTAL for the running total. */
  day: string;
}

/** The day value of the running-total document (sorts after every date, never a date itself). */
export const TOTAL = 'total';
/** Counters remembered as existing, at most (then forgotten, and upserted once again). */
const MAX_KNOWN = 100_000;

type CounterKey = { workspaceId: string; segmentId: string; day: string };
const counterId = (k: CounterKey): string => `${k.workspaceId}\u0000${k.segmentId}\u0000${k.day}`;

/**
 * Per segment and UTC day, how many entered and exited (collection `segment_size_days`), plus a
 * running total: `$inc`s (transitions counted while a counter's write is out are summed into its
 * next one; a counter's first write upserts it, later ones share one bulk with other counters'),
 * and the size history is read by id (today and the days asked for), never by scanning memberships.
 */
@Injectable()
export class SegmentSizesRepository extends WorkspaceRepository<SegmentSizeDocument> {
  private readonly counts = new CoalescedCounts<CounterKey>(
    (k, delta) => this.increment(k.workspaceId, k.segmentId, k.day, delta),
    counterId,
  );

  /** Counters this process has written (so they exist): their increments can share a bulk. */
  private readonly existing = new Set<string>();
  private readonly increments = new Coalescer<{ ws: string; op: AnyBulkWriteOperation<SegmentSizeDocument> }, void>(async (asks) => {
    await perWorkspace(asks, async (ws, group) => {
      await this.bulkWrite(
        ws,
        group.map((a) => a.op),
      );
      return group.map(() => true);
    });
    return asks.map(() => undefined);
  });

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_size_days', ['segmentId', 'day']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, segmentId: 1, day: 1 }, name: 'workspace_segment_day', unique: true }];
  }

  /** Counts one stored transition on its day and in the total; resolves once both are stored. */
  async count(workspaceId: string, segmentId: string, t: Transition): Promise<void> {
    const field = t.change === 'entered' ? 'entered' : 'exited';
    const day = dayOf(t.asOf ?? t.occurredAt);
    await Promise.all([day, TOTAL].map((d) => this.counts.add({ workspaceId, segmentId, day: d }, field)));
  }

  private async increment(workspaceId: string, segmentId: string, day: string, delta: Delta): Promise<void> {
    const update = { $inc: { entered: delta.entered, exited: delta.exited } };
    const id = counterId({ workspaceId, segmentId, day });
    // A counter known to exist: with the other counters' increments in one bulk (plain updates
    // cannot fail on a key; one whose counter was removed with its segment matches nothing).
    if (this.existing.has(id)) return this.increments.ask({ ws: workspaceId, op: { updateOne: { filter: { segmentId, day }, update } } });
    try {
      await this.updateOne(workspaceId, { segmentId, day }, update, { upsert: true });
    } catch (e) {
      // A concurrent upsert inserted the document first: the increment now applies as a plain update.
      if (!isDuplicateKey(e)) throw e;
      await this.updateOne(workspaceId, { segmentId, day }, update);
    }
    if (this.existing.size >= MAX_KNOWN) this.existing.clear();
    this.existing.add(id);
  }

  /** Members at the end of each of the last `days` UTC days up to the day of `now` (none before `since`), oldest first. */
  async history(workspaceId: string, segmentId: string, days: number, now: number, since?: number): Promise<SizeDay[]> {
    const listed = lastDays(now, days, since);
    const tomorrow = dayOf(now + DAY_MS);
    const docs = await this.find(workspaceId, { segmentId, day: { $in: [...listed, tomorrow, TOTAL] } }, { projection: { _id: 0 } });
    const byDay = new Map(docs.map((d) => [d.day, { entered: d.entered ?? 0, exited: d.exited ?? 0 }]));
    const none = { entered: 0, exited: 0 };
    return sizeHistory(listed, byDay, byDay.get(TOTAL) ?? none, byDay.get(tomorrow) ?? none);
  }

  async removeSegment(workspaceId: string, segmentId: string): Promise<void> {
    for (const id of this.existing) if (id.startsWith(`${workspaceId}\u0000${segmentId}\u0000`)) this.existing.delete(id);
    await this.deleteMany(workspaceId, { segmentId });
  }
}
