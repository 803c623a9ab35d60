import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** A suppressed identifier, by hash only (no PII), as cdp.privacy.suppressions.v1 last said. */
export interface SuppressionDoc extends WorkspaceDocument {
  identifierHash: string;
  regulationId: string;
  suppressedAt: number;
  /** When it ends by itself (an erased person's window); null or absent: until lifted. */
  until?: number | null;
}

/** The latest state of one key of the topic: suppressed (a record) or lifted (a tombstone). */
export type SuppressionChange = {
  identifierHash: string;
  suppressed: { regulationId: string; suppressedAt: number; until: number | null } | null;
};

/** Hashes per lookup: the repository turns at most 1000 key values into `_id`s; beyond that it would scan. */
const LOOKUP_SLICE = 500;

/** `normalizer_suppressions`: the suppression topic materialized, one document per workspace + hash (`_id`). */
@Injectable()
export class SuppressionsRepository extends WorkspaceRepository<SuppressionDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_suppressions', ['identifierHash']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, identifierHash: 1 }, name: 'workspace_hash', unique: true }];
  }

  /** Applies the latest change per hash (idempotent: a redelivered change writes the same state). */
  async apply(workspaceId: string, changes: SuppressionChange[]): Promise<void> {
    const lifted = changes.filter((c) => c.suppressed === null).map((c) => c.identifierHash);
    if (lifted.length > 0) await this.deleteMany(workspaceId, { identifierHash: { $in: lifted } });
    await this.upsertEach(
      workspaceId,
      changes.flatMap(({ identifierHash, suppressed }) =>
        suppressed ? [{ filter: { identifierHash }, update: { $set: { workspaceId, identifierHash, ...suppressed } } }] : [],
      ),
    );
  }

  /** Which of these hashes are suppressed at `now` (one whose end has passed is not): by `_id` only, in slices. */
  async suppressed(workspaceId: string, hashes: readonly string[], now = Date.now()): Promise<Set<string>> {
    const unique = [...new Set(hashes)];
    const found = new Set<string>();
    for (let i = 0; i < unique.length; i += LOOKUP_SLICE) {
      const docs = await this.find(
        workspaceId,
        { identifierHash: { $in: unique.slice(i, i + LOOKUP_SLICE) } },
        { projection: { _id: 0, identifierHash: 1, until: 1 } },
      );
      for (const d of docs) if (d.until === undefined || d.until === null || d.until > now) found.add(d.identifierHash);
    }
    return found;
  }
}
