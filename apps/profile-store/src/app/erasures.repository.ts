import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { liftPlan } from './regulation-lift';

/** Why a hash is suppressed: an erasure (for a window) or a suppress regulation (until lifted). */
export type SuppressionSource = 'erasure' | 'regulation';

/** Far enough in the future to mean "until lifted" (the largest valid Date). */
export const SUPPRESS_FOREVER = 8.64e15;

/** An erased or suppressed profile id or identifier, by hash only (no PII), suppressed until `until`. */
export interface ErasureDoc extends WorkspaceDocument {
  hash: string;
  erasedAt: number;
  until: number;
  /** What asked for it; absent on documents written before regulations existed (erasures). */
  sources?: SuppressionSource[];
  /** End of the erasure window alone, so lifting a regulation's "forever" can fall back to it. */
  erasureUntil?: number;
}

/** `profile_erasures`: what late events must not bring back, for a configured window or for good. */
@Injectable()
export class ErasuresRepository extends WorkspaceRepository<ErasureDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_erasures', ['hash']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, hash: 1 }, name: 'workspace_hash', unique: true }];
  }

  /**
   * Remembers the hashes until `until`. `$max` keeps the longer window, so an erasure's 30 days
   * never shorten a regulation's "forever".
   */
  async remember(
    workspaceId: string,
    hashes: string[],
    erasedAt: number,
    until: number,
    source: SuppressionSource = 'erasure',
  ): Promise<void> {
    // Two erasures of the same person at once: the loser's duplicate key means "already remembered".
    await this.upsertEach(
      workspaceId,
      [...new Set(hashes)].map((hash) => ({
        filter: { hash },
        update: {
          $set: { workspaceId, hash, erasedAt },
          $max: source === 'erasure' ? { until, erasureUntil: until } : { until },
          $addToSet: { sources: source },
        },
      })),
    );
  }

  /** Which of these hashes are suppressed at `now`, with what suppresses them. */
  async suppressed(workspaceId: string, hashes: string[], now: number): Promise<Map<string, SuppressionSource[]>> {
    if (hashes.length === 0) return new Map();
    const docs = await this.find(
      workspaceId,
      { hash: { $in: [...new Set(hashes)] }, until: { $gt: now } },
      { projection: { hash: 1, sources: 1 } },
    );
    return new Map(docs.map((d) => [d.hash, d.sources ?? ['erasure']]));
  }

  /** When each of these hashes stops being suppressed (SUPPRESS_FOREVER: when lifted); absent: not held. */
  async untilOf(workspaceId: string, hashes: readonly string[]): Promise<Map<string, number>> {
    if (hashes.length === 0) return new Map();
    const docs = await this.find(workspaceId, { hash: { $in: [...new Set(hashes)] } }, { projection: { hash: 1, until: 1 } });
    return new Map(docs.map((d) => [d.hash, d.until]));
  }

  /**
   * Lifts the regulation suppression of these hashes (see liftPlan): records only a regulation
   * held are deleted, the others go back to their erasure window. Answers the hashes lifted.
   * Read, then written by `_id`: lifting is rare, and update pipelines are not available here.
   */
  async lift(workspaceId: string, hashes: string[], fallbackUntil: number): Promise<string[]> {
    if (hashes.length === 0) return [];
    const stored = await this.find(
      workspaceId,
      { hash: { $in: [...new Set(hashes)] } },
      { projection: { hash: 1, sources: 1, erasureUntil: 1 } },
    );
    const plan = liftPlan(stored, fallbackUntil);
    if (plan.remove.length > 0) await this.deleteMany(workspaceId, { hash: { $in: plan.remove } });
    await Promise.all(plan.keep.map(({ hash, sources, until }) => this.updateOne(workspaceId, { hash }, { $set: { sources, until } })));
    return [...plan.remove, ...plan.keep.map((k) => k.hash)];
  }
}
