import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { MongoConnection, WorkspaceRepository, duplicateKeyIndexes, isDuplicateKey, type ScopedFilter } from '@cdp/mongo';
import type { Profile } from '@cdp/profile-model';
import { fromDoc, toDoc, type ProfileDoc } from './stored-profile';
import type { TraitStates } from './user-computed-traits';

/** A profile with the state of its user-defined computed traits. */
export interface ProfileWithState {
  profile: Profile;
  custom: TraitStates;
}

/** A write of `compareAndSetMany`: the profile, the version it replaces (0: new) and, if changed, its computed-trait state. */
export interface ProfileWrite {
  profile: Profile;
  expected: number;
  custom?: TraitStates;
}

/** How many redirects (absorbed -> survivor) are followed before giving up. */
const MAX_REDIRECTS = 16;
/** Profile ids per read by `_id` (libs/mongo turns a longer `$in` into a collection scan). */
const READ_PAGE = 500;

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

  /** These profiles (those stored), by profile id: one read by `_id` per 500. */
  async getManyWithState(workspaceId: string, profileIds: readonly string[]): Promise<Map<string, ProfileWithState>> {
    const found = new Map<string, ProfileWithState>();
    const unique = [...new Set(profileIds)];
    for (let i = 0; i < unique.length; i += READ_PAGE) {
      const docs = await this.find(workspaceId, { profileId: { $in: unique.slice(i, i + READ_PAGE) } }, { projection: { _id: 0 } });
      for (const doc of docs) found.set(doc.profileId, { profile: fromDoc(doc), custom: doc.customTraits ?? {} });
    }
    return found;
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
   * Many compare-and-sets in one bulk write (distinct profile ids): which of them were written.
   * A bulk reports only how many updates matched, so each write carries this call's token, and
   * when some did not match the profiles are read back to see whose token is there.
   */
  async compareAndSetMany(workspaceId: string, writes: readonly ProfileWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const writeId = randomUUID();
    const ops = writes.map(({ profile, expected, custom }) => {
      const { workspaceId: _ws, profileId, ...rest } = toDoc(profile);
      const fields = { ...rest, writeId, ...(custom === undefined ? {} : { customTraits: custom }) };
      return expected === 0
        ? { insertOne: { document: { workspaceId, profileId, ...fields } } }
        : { updateOne: { filter: { profileId, version: expected }, update: { $set: fields } } };
    });
    const updates = writes.filter((w) => w.expected !== 0).length;
    let matched: number;
    const written = writes.map(() => true);
    try {
      matched = (await this.bulkWrite(workspaceId, ops))?.matchedCount ?? 0;
    } catch (e) {
      // Inserts that lost to someone else's insert; the other inserts and the updates still ran.
      if (!isDuplicateKey(e)) throw e;
      for (const i of duplicateKeyIndexes(e)) written[i] = false;
      matched = (e as { result?: { matchedCount?: number } }).result?.matchedCount ?? 0;
    }
    if (matched < updates) {
      const ids = writes.filter((w) => w.expected !== 0).map((w) => w.profile.profileId);
      const stored = new Map<string, string | undefined>();
      for (let i = 0; i < ids.length; i += READ_PAGE) {
        const docs = await this.find(
          workspaceId,
          { profileId: { $in: ids.slice(i, i + READ_PAGE) } },
          { projection: { profileId: 1, writeId: 1 } },
        );
        for (const d of docs) stored.set(d.profileId, d.writeId);
      }
      writes.forEach((w, i) => {
        if (w.expected !== 0) written[i] = stored.get(w.profile.profileId) === writeId;
      });
    }
    return written;
  }

  /**
   * Canonical profiles whose traits equal the given values (each trait: any of its candidate
   * values), by profile id after `after`. Not indexed on the local FerretDB: the filter scans the
   * workspace's profiles, so the query is bounded by `maxTimeMs`.
   */
  async searchByTraits(
    workspaceId: string,
    conditions: { fields: { key: string; path: string[] }[]; values: unknown[] }[],
    after: string | null,
    limit: number,
    maxTimeMs: number,
  ): Promise<Profile[]> {
    const matches = conditions.map(({ fields, values }) => {
      const alternatives = fields.map((f) => ({ [['traits', f.key, 'value', ...f.path].join('.')]: { $in: values } }));
      return alternatives.length === 1 ? alternatives[0] : { $or: alternatives };
    });
    const filter: Record<string, unknown> = { mergedInto: null, $and: matches };
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
