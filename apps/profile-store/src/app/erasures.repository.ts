import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** An erased profile id or identifier, by hash only (no PII), suppressed until `until`. */
export interface ErasureDoc extends WorkspaceDocument {
  hash: string;
  erasedAt: number;
  until: number;
}

/** `profile_erasures`: what late events must not bring back, for a configured window. */
@Injectable()
export class ErasuresRepository extends WorkspaceRepository<ErasureDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_erasures', ['hash']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, hash: 1 }, name: 'workspace_hash', unique: true }];
  }

  /** Remembers the hashes until `until` (a repeated erasure extends the window). */
  async remember(workspaceId: string, hashes: string[], erasedAt: number, until: number): Promise<void> {
    // Two erasures of the same person at once: the loser's duplicate key means "already remembered".
    await this.upsertEach(
      workspaceId,
      [...new Set(hashes)].map((hash) => ({ filter: { hash }, update: { $set: { workspaceId, hash, erasedAt, until } } })),
    );
  }

  /** Which of these hashes are suppressed at `now`. */
  async suppressed(workspaceId: string, hashes: string[], now: number): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const docs = await this.find(workspaceId, { hash: { $in: [...new Set(hashes)] }, until: { $gt: now } }, { projection: { hash: 1 } });
    return new Set(docs.map((d) => d.hash));
  }
}
