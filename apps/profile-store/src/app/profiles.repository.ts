import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, isDuplicateKey, type ScopedFilter } from '@cdp/mongo';
import type { Profile } from '@cdp/profile-model';
import { fromDoc, toDoc, type ProfileDoc } from './stored-profile';
import type { TraitStates } from './user-computed-traits';

/** A profile with the state of its user-defined computed traits. */
export interface ProfileWithState {
  profile: Profile;
  custom: TraitStates;
}

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

  async getWithState(workspaceId: string, profileId: string): Promise<ProfileWithState | null> {
    const doc = await this.findOne(workspaceId, { profileId }, { projection: { _id: 0 } });
    return doc ? { profile: fromDoc(doc), custom: doc.customTraits ?? {} } : null;
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
  async compareAndSet(profile: Profile, expected: number, custom?: TraitStates): Promise<boolean> {
    const { workspaceId, profileId, ...rest } = toDoc(profile);
    // Without `custom` the stored computed-trait state is left as it is.
    const fields = custom === undefined ? rest : { ...rest, customTraits: custom };
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

  /**
   * Canonical profiles whose traits equal the given values (each trait: any of its candidate
   * values), by profile id after `after`. Not indexed on the local FerretDB: the filter scans the
   * workspace's profiles, so the query is bounded by `maxTimeMs`.
   */
  async searchByTraits(
    workspaceId: string,
    conditions: { key: string; values: unknown[] }[],
    after: string | null,
    limit: number,
    maxTimeMs: number,
  ): Promise<Profile[]> {
    const filter: Record<string, unknown> = { mergedInto: null };
    for (const c of conditions) filter[`traits.${c.key}.value`] = { $in: c.values };
    if (after !== null) filter['profileId'] = { $gt: after };
    const docs = await this.find(workspaceId, filter as ScopedFilter<ProfileDoc>, {
      sort: { profileId: 1 },
      limit,
      maxTimeMS: maxTimeMs,
      projection: { _id: 0 },
    });
    return docs.map(fromDoc);
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
