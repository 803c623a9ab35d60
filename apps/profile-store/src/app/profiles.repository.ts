import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, isDuplicateKey } from '@cdp/mongo';
import type { Profile } from '@cdp/profile-model';
import { fromDoc, toDoc, type ProfileDoc } from './stored-profile';

/** How many redirects (absorbed -> survivor) are followed before giving up. */
const MAX_REDIRECTS = 16;

/** `profiles`: one document per workspace and profile id, written with compare-and-set on version. */
@Injectable()
export class ProfilesRepository extends WorkspaceRepository<ProfileDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profiles', ['profileId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, profileId: 1 }, name: 'workspace_profile', unique: true }];
  }

  async get(workspaceId: string, profileId: string): Promise<Profile | null> {
    const doc = await this.findOne(workspaceId, { profileId }, { projection: { _id: 0 } });
    return doc ? fromDoc(doc) : null;
  }

  /** The profile a profile id now lives in: follows mergedInto to the survivor. */
  async canonical(workspaceId: string, profileId: string): Promise<Profile | null> {
    let profile = await this.get(workspaceId, profileId);
    for (let hops = 0; profile?.mergedInto && hops < MAX_REDIRECTS; hops++) profile = await this.get(workspaceId, profile.mergedInto);
    return profile && !profile.mergedInto ? profile : null;
  }

  /**
   * Writes a profile whose stored version is `expected` (0: not stored yet). False when someone
   * else wrote it in between: the caller reloads and retries.
   */
  async compareAndSet(profile: Profile, expected: number): Promise<boolean> {
    const { workspaceId, profileId, ...fields } = toDoc(profile);
    if (expected === 0) {
      try {
        await this.insertOne(workspaceId, { workspaceId, profileId, ...fields });
        return true;
      } catch (e) {
        if (isDuplicateKey(e)) return false;
        throw e;
      }
    }
    const result = await this.updateOne(workspaceId, { profileId, version: expected }, { $set: fields });
    return result.matchedCount === 1;
  }

  /** Ids of the profiles redirecting to this one (absorbed, perhaps not yet folded in). */
  async redirectingTo(workspaceId: string, profileId: string): Promise<string[]> {
    const docs = await this.find(workspaceId, { mergedInto: profileId }, { projection: { profileId: 1 } });
    return docs.map((d) => d.profileId);
  }

  /** Deletes these profile documents. */
  async erase(workspaceId: string, profileIds: string[]): Promise<void> {
    await this.deleteMany(workspaceId, { profileId: { $in: profileIds } });
  }
}
