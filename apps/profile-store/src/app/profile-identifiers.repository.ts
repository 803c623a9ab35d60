import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** Which profile an identifier (`type:value`) was first seen on; merges are followed from there. */
export interface ProfileIdentifierDoc extends WorkspaceDocument {
  idKey: string;
  profileId: string;
}

/**
 * `profile_identifiers`: the lookup behind `GET /v1/profiles/{type:value}`, one document per
 * workspace and identifier, read by `_id`. A pointer is written once and never moved: an
 * absorbed profile redirects to its survivor, so the first profile stays a valid entry point.
 * It is deleted when the identifier is removed from its person (cdp.identity.removals.v1).
 */
@Injectable()
export class ProfileIdentifiersRepository extends WorkspaceRepository<ProfileIdentifierDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_identifiers', ['idKey']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, idKey: 1 }, name: 'workspace_idkey', unique: true }];
  }

  /** Points these identifiers at the profile unless they point somewhere already. */
  remember(workspaceId: string, idKeys: string[], profileId: string): Promise<void> {
    return this.rememberMany(workspaceId, [{ idKeys, profileId }]);
  }

  /** `remember` for several profiles in one insert (an identifier named twice goes to the first). */
  async rememberMany(workspaceId: string, entries: readonly { idKeys: string[]; profileId: string }[]): Promise<void> {
    const docs = entries.flatMap(({ idKeys, profileId }) => idKeys.map((idKey) => ({ idKey, profileId }) as ProfileIdentifierDoc));
    try {
      await this.bulkWrite(
        workspaceId,
        docs.map((document) => ({ insertOne: { document } })),
      );
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }

  async lookup(workspaceId: string, idKey: string): Promise<string | null> {
    return (await this.findOne(workspaceId, { idKey }, { projection: { profileId: 1 } }))?.profileId ?? null;
  }

  /** The profile ids these identifiers point at (one query by _id; at most 1000 keys). */
  async lookupMany(workspaceId: string, idKeys: string[]): Promise<string[]> {
    if (idKeys.length === 0) return [];
    const docs = await this.find(workspaceId, { idKey: { $in: idKeys } }, { projection: { profileId: 1 } });
    return [...new Set(docs.map((d) => d.profileId))];
  }

  /** Deletes the identifier's pointer only if it still points at `profileId` (a later one stays). */
  async forgetIfAt(workspaceId: string, idKey: string, profileId: string): Promise<void> {
    await this.deleteMany(workspaceId, { idKey, profileId });
  }

  async forget(workspaceId: string, idKeys: string[]): Promise<void> {
    if (idKeys.length > 0) await this.deleteMany(workspaceId, { idKey: { $in: idKeys } });
  }
}
