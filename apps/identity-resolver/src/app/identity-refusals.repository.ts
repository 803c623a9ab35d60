import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { identifierHash } from '@cdp/contracts';
import type { Demotion, Identifier } from '@cdp/identity-graph';
import { groupBy } from '@cdp/platform';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/**
 * An identifier an event carried that a limit kept off the profile the event went to (a demotion):
 * what `GET /v1/identities/{type:value}` tells when someone asks why it is not on that person.
 */
export interface IdentityRefusalDoc extends WorkspaceDocument {
  /** `identifierHash` of the identifier: never its value (it may be a person who asked to be forgotten). */
  identifier: string;
  profileId: string;
  /** The rule it would have broken, e.g. `limits.email: 1` or `limits.email: 2 per 30d`. */
  limit: string;
  /** Event times of the first and the latest event refused so (as processed). */
  firstAt: Date;
  lastAt: Date;
  /** The latest refused event. */
  messageId: string;
}

/** An event's demoted identifiers, kept off the profile it went to. */
export interface Refused {
  workspaceId: string;
  profileId: string;
  demoted: readonly Demotion[];
  messageId: string;
  timestamp: number;
}

export type IdentityRefusal = Pick<IdentityRefusalDoc, 'profileId' | 'limit' | 'firstAt' | 'lastAt' | 'messageId'>;

/** Most refusals an explanation lists (newest first). */
export const MAX_REFUSALS_LISTED = 20;

/**
 * Collection `identity_refusals`: one document per identifier and profile, `_id` from both.
 * Written only for events that demote an identifier (rare), once per chunk;
 * read by identifier (a scan of this small collection) for an explanation, deleted with erased profiles.
 */
@Injectable()
export class IdentityRefusalsRepository extends WorkspaceRepository<IdentityRefusalDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_refusals', ['identifier', 'profileId']);
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, identifier: 1 }, name: 'refusal_by_identifier' },
      { key: { workspaceId: 1, profileId: 1 }, name: 'refusal_by_profile' },
    ];
  }

  /**
   * Notes, per event, that its demoted identifiers were kept off its profile: one unordered bulk
   * of upserts per workspace. The same events again change nothing.
   */
  async record(refused: readonly Refused[]): Promise<void> {
    const byWorkspace = groupBy(
      refused.flatMap((r) => r.demoted.map((d) => ({ ...r, ...d }))),
      (r) => r.workspaceId,
    );
    await Promise.all(
      [...byWorkspace].map(async ([ws, list]) => {
        const upserts = list.map(({ identifier, profileId, limit, messageId, timestamp }) => ({
          filter: { identifier: hashOf(ws, identifier), profileId },
          update: { $set: { limit, lastAt: new Date(timestamp), messageId }, $setOnInsert: { firstAt: new Date(timestamp) } },
        }));
        try {
          await this.bulkWrite(
            ws,
            upserts.map((u) => ({ updateOne: { ...u, upsert: true } })),
          );
        } catch {
          // A concurrent insert of the same pair (a duplicate key stops FerretDB's bulk): one by one, safe to repeat.
          await this.upsertEach(ws, upserts);
        }
      }),
    );
  }

  /** The refusals of an identifier, newest first. */
  async ofIdentifier(workspaceId: string, id: Identifier): Promise<IdentityRefusal[]> {
    return this.find(
      workspaceId,
      { identifier: hashOf(workspaceId, id) },
      {
        projection: { _id: 0, profileId: 1, limit: 1, firstAt: 1, lastAt: 1, messageId: 1 },
        sort: { lastAt: -1 },
        limit: MAX_REFUSALS_LISTED,
      },
    );
  }

  /** Drops the refusals that name erased profiles. */
  async removeOfProfiles(workspaceId: string, profileIds: string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    return (await this.deleteMany(workspaceId, { profileId: { $in: profileIds } })).deletedCount;
  }
}

const hashOf = (workspaceId: string, id: Identifier): string => identifierHash(workspaceId, id.type, id.value);
