import { Injectable, Logger } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { Coalescer, duplicateKeyIndexes, isDuplicateKey, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { ViolationsQuery } from './violations-query';
import { combine, type ViolationSummary } from './violation-summary';

/** One kind of tracking-plan violation of a workspace's flagged events, under `_id` `<workspaceId>:<key>`. */
export interface ViolationDoc extends WorkspaceDocument {
  key: string;
  eventType: string;
  event: string | null;
  path: string;
  kind: string;
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  exampleMessageId: string;
  exampleMessage: string;
}

export interface ViolationView {
  eventType: string;
  event: string | null;
  path: string;
  kind: string;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  example: { messageId: string; message: string };
}

/** Rows kept after their last event: the DLQ's retention. */
export const VIOLATION_RETENTION_DAYS = 30;
/**
 * Rows a workspace may have (each within a few kB): past this, only kinds already stored are
 * counted, so random event names or property keys cannot grow the collection without end.
 */
export const MAX_ROWS_PER_WORKSPACE = 1_000;
/** Rows remembered as existing, at most (then forgotten, and inserted once again: a duplicate key). */
const MAX_KNOWN = 100_000;

type Ask = { workspaceId: string; summaries: ViolationSummary[]; now: Date };

/**
 * Collection `normalizer_violations`: per workspace and kind, how often flagged events had it,
 * when first and last, and the last example. Written by `_id` only (the one index FerretDB uses).
 *
 * A kind's first write inserts its row, later ones `$inc` it, each in one unordered bulk per
 * workspace: no upserts, because FerretDB 1.24 stops an update bulk at a duplicate key (two
 * instances inserting one new row) and then reports index 0 and no counts whatever ran, so
 * which `$inc`s to repeat could not be known. Inserts carry on past a duplicate and name it:
 * those rows, inserted by another instance, get the update instead.
 */
@Injectable()
export class ViolationsRepository extends WorkspaceRepository<ViolationDoc> {
  private readonly logger = new Logger(ViolationsRepository.name);
  /** Rows per workspace as of the last recount, plus those this instance inserted since. */
  private rows = new Map<string, number>();
  /** Workspaces already warned about since the last recount. */
  private readonly full = new Set<string>();
  /** `_id`s this instance wrote since the last sweep: they exist (a sweep only removes rows unseen for days). */
  private readonly known = new Set<string>();
  // Concurrent chunks (partitions) share one write in flight, so also fewer round trips. Answers
  // each ask with its workspace's failure, if any.
  private readonly writes = new Coalescer<Ask, unknown>(async (asks) => {
    const byWorkspace = new Map<string, Ask[]>();
    for (const a of asks) byWorkspace.set(a.workspaceId, [...(byWorkspace.get(a.workspaceId) ?? []), a]);
    const failures = new Map<string, unknown>();
    await Promise.all(
      [...byWorkspace].map(([workspaceId, list]) =>
        this.write(workspaceId, combine(list.flatMap((a) => a.summaries)), new Date(Math.max(...list.map((a) => a.now.getTime())))).catch(
          (e: unknown) => failures.set(workspaceId, e),
        ),
      ),
    );
    return asks.map((a) => failures.get(a.workspaceId));
  });

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_violations', ['key']);
  }

  /** For MongoDB's listing (FerretDB scans anyway); the hot write goes by `_id`. */
  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, lastSeenAt: -1 }, name: 'violations_last_seen' }];
  }

  /** Adds a chunk's summaries (per workspace) to the stored rows. */
  async record(byWorkspace: Map<string, ViolationSummary[]>, now: Date): Promise<void> {
    const failures = await Promise.all(
      [...byWorkspace].map(([workspaceId, summaries]) => this.writes.ask({ workspaceId, summaries, now })),
    );
    const failed = failures.find((f) => f !== undefined);
    if (failed !== undefined) throw failed;
  }

  /** The workspace's rows matching the filter, newest `lastSeenAt` first, and how many match. */
  async list(workspaceId: string, query: ViolationsQuery): Promise<{ violations: ViolationView[]; total: number }> {
    const conditions: Record<string, unknown> = {};
    if (query.event !== undefined) conditions['event'] = query.event;
    if (query.since) conditions['lastSeenAt'] = { $gte: query.since };
    const [docs, total] = await Promise.all([
      this.find(workspaceId, conditions, { sort: { lastSeenAt: -1, _id: 1 }, limit: query.limit }),
      this.collection.countDocuments(this.scope(workspaceId, conditions)),
    ]);
    return { violations: docs.map(viewOf), total };
  }

  /** Deletes rows not seen since the cutoff, in every workspace, then recounts the rows per workspace (maintenance, not a tenant query). */
  async sweep(cutoff: Date): Promise<number> {
    // Before the delete: a row remembered from before it would be updated (matching nothing) instead of inserted.
    this.known.clear();
    const { deletedCount } = await this.collection.deleteMany({ lastSeenAt: { $lt: cutoff } });
    const counted = await this.collection
      .aggregate<{ _id: string; rows: number }>([{ $group: { _id: '$workspaceId', rows: { $sum: 1 } } }])
      .toArray();
    this.rows = new Map(counted.map((c) => [c._id, c.rows]));
    this.full.clear();
    return deletedCount;
  }

  private async write(workspaceId: string, summaries: ViolationSummary[], now: Date): Promise<void> {
    const idOf = (s: ViolationSummary) => this.keyId(workspaceId, s.key);
    const stored = this.rows.get(workspaceId) ?? 0;
    const allowNew = stored < MAX_ROWS_PER_WORKSPACE;
    if (!allowNew && !this.full.has(workspaceId)) {
      this.full.add(workspaceId);
      this.logger.warn(
        `workspace ${workspaceId} has ${stored} tracking-plan violation rows: new kinds are not recorded until old ones expire`,
      );
    }
    // At the cap, a kind not stored yet only gets the update, which matches nothing.
    if (!allowNew) return this.update(workspaceId, summaries, now);
    const unknown = summaries.filter((s) => !this.known.has(idOf(s)));
    const [existed] = await Promise.all([
      this.insert(workspaceId, unknown, now),
      this.update(
        workspaceId,
        summaries.filter((s) => this.known.has(idOf(s))),
        now,
      ),
    ]);
    this.rows.set(workspaceId, stored + unknown.length - existed.length);
    await this.update(workspaceId, existed, now);
    if (this.known.size + unknown.length > MAX_KNOWN) this.known.clear();
    for (const s of summaries) this.known.add(idOf(s));
  }

  /** Inserts rows for new kinds; answers those already there (inserted by another instance, or before this one started). */
  private async insert(workspaceId: string, summaries: ViolationSummary[], now: Date): Promise<ViolationSummary[]> {
    const docs = summaries.map(({ key, eventType, event, path, kind, count, exampleMessageId, exampleMessage }) => ({
      insertOne: {
        document: {
          key,
          eventType,
          event,
          path,
          kind,
          count,
          firstSeenAt: now,
          lastSeenAt: now,
          exampleMessageId,
          exampleMessage,
        } as ViolationDoc,
      },
    }));
    try {
      await this.bulkWrite(workspaceId, docs);
      return [];
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      return duplicateKeyIndexes(e).map((i) => summaries[i] as ViolationSummary);
    }
  }

  private async update(workspaceId: string, summaries: ViolationSummary[], now: Date): Promise<void> {
    await this.bulkWrite(
      workspaceId,
      summaries.map((s) => ({
        updateOne: {
          filter: { key: s.key },
          update: {
            $inc: { count: s.count },
            $set: { lastSeenAt: now, exampleMessageId: s.exampleMessageId, exampleMessage: s.exampleMessage },
          },
        },
      })),
    );
  }
}

const viewOf = (d: ViolationDoc): ViolationView => ({
  eventType: d.eventType,
  event: d.event ?? null,
  path: d.path,
  kind: d.kind,
  count: d.count,
  firstSeenAt: d.firstSeenAt.toISOString(),
  lastSeenAt: d.lastSeenAt.toISOString(),
  example: { messageId: d.exampleMessageId, message: d.exampleMessage },
});
