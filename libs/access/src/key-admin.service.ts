import { randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository } from '@cdp/mongo';
import { AccessService, isLive, type KeyRecord, type WorkspaceRecord } from './access.service';
import { hashKey, keyIdOf, newKey, type Scope } from './keys';

export interface SourceRecord {
  _id: string;
  workspaceId: string;
  name: string;
  createdAt: Date;
}

/** A key as the admin API shows it: never the key, only its id (a hash prefix). */
export interface KeyInfo {
  keyId: string;
  kind: KeyRecord['kind'];
  name: string;
  scopes: string[];
  sourceId: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface SourceInfo {
  sourceId: string;
  name: string;
  createdAt: string | null;
  /** Ids of the source's write keys that still work (a rotation's old keys during its grace period too). */
  activeKeyIds: string[];
}

export const describeKey = (r: KeyRecord): KeyInfo => ({
  keyId: keyIdOf(r._id),
  kind: r.kind,
  name: r.name,
  scopes: r.scopes ?? [],
  sourceId: r.sourceId ?? null,
  createdAt: new Date(r.createdAt).toISOString(),
  revokedAt: r.revokedAt ? new Date(r.revokedAt).toISOString() : null,
});

class KeyRepository extends WorkspaceRepository<KeyRecord> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'api_keys');
  }
  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, kind: 1 } }];
  }
  all(workspaceId: string): Promise<KeyRecord[]> {
    return this.find(workspaceId, {}, { sort: { createdAt: 1 } });
  }
  async insert(workspaceId: string, record: KeyRecord): Promise<void> {
    await this.insertOne(workspaceId, record);
  }
  async revoke(workspaceId: string, id: string, at: Date): Promise<void> {
    await this.updateOne(workspaceId, { _id: id }, { $set: { revokedAt: at } });
  }
}

class SourceRepository extends WorkspaceRepository<SourceRecord> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'sources');
  }
  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, createdAt: 1 } }];
  }
  all(workspaceId: string): Promise<SourceRecord[]> {
    return this.find(workspaceId, {}, { sort: { createdAt: 1 } });
  }
  async insert(workspaceId: string, record: SourceRecord): Promise<void> {
    await this.insertOne(workspaceId, record);
  }
}

/**
 * Sources and keys of a workspace, for the admin API. Every method takes the workspace id and
 * answers null for anything outside it, so callers cannot tell "another workspace's" from
 * "does not exist". Keys are returned once, at creation; only their hashes are stored.
 */
@Injectable()
export class KeyAdminService implements OnModuleInit {
  private readonly keys: KeyRepository;
  private readonly sources: SourceRepository;

  constructor(
    private readonly mongo: MongoConnection,
    private readonly access: AccessService,
  ) {
    this.keys = new KeyRepository(mongo);
    this.sources = new SourceRepository(mongo);
  }

  async onModuleInit(): Promise<void> {
    await this.sources.ensureIndexes();
  }

  async workspaceExists(workspaceId: string): Promise<boolean> {
    const found = await this.mongo.db.collection<WorkspaceRecord>('workspaces').findOne({ _id: workspaceId });
    return found !== null;
  }

  async createSource(workspaceId: string, name: string): Promise<{ source: SourceInfo; writeKey: string; keyId: string }> {
    const sourceId = `src_${randomBytes(9).toString('base64url')}`;
    const createdAt = new Date();
    await this.sources.insert(workspaceId, { _id: sourceId, workspaceId, name, createdAt });
    const { key, keyId } = await this.insertKey(workspaceId, 'write', { name: `${name} write key`, scopes: [], sourceId });
    return { source: { sourceId, name, createdAt: createdAt.toISOString(), activeKeyIds: [keyId] }, writeKey: key, keyId };
  }

  /** Stored sources, and sources known only from their write keys (the demo source, older workspaces). */
  async listSources(workspaceId: string): Promise<SourceInfo[]> {
    const [sources, keys] = await Promise.all([this.sources.all(workspaceId), this.keys.all(workspaceId)]);
    const byId = new Map<string, SourceInfo>(
      sources.map((s) => [s._id, { sourceId: s._id, name: s.name, createdAt: new Date(s.createdAt).toISOString(), activeKeyIds: [] }]),
    );
    for (const k of keys) {
      if (k.kind !== 'write' || !k.sourceId) continue;
      const source = byId.get(k.sourceId) ?? { sourceId: k.sourceId, name: k.name, createdAt: null, activeKeyIds: [] };
      if (isLive(k)) source.activeKeyIds.push(keyIdOf(k._id));
      byId.set(k.sourceId, source);
    }
    return [...byId.values()];
  }

  /**
   * A new write key for the source; its previous keys are revoked, at once or after `graceSeconds`
   * (while apps move to the new key, both work). Null when the workspace has no such source.
   */
  async rotateWriteKey(
    workspaceId: string,
    sourceId: string,
    graceSeconds = 0,
  ): Promise<{ sourceId: string; writeKey: string; keyId: string; revokedKeyIds: string[]; oldKeysWorkUntil: string | null } | null> {
    const source = (await this.listSources(workspaceId)).find((s) => s.sourceId === sourceId);
    if (!source) return null;
    // The new key exists before the old ones go, so the source is never without a working key.
    const { key, keyId } = await this.insertKey(workspaceId, 'write', { name: `${source.name} write key`, scopes: [], sourceId });
    const now = Date.now();
    const old = (await this.keys.all(workspaceId)).filter((k) => k.kind === 'write' && k.sourceId === sourceId && isLive(k, now));
    const until = new Date(now + graceSeconds * 1000);
    const revoked: string[] = [];
    for (const k of old) {
      if (keyIdOf(k._id) === keyId) continue;
      // A key already ending sooner (an earlier rotation's grace) keeps its end.
      if (graceSeconds === 0) await this.revokeRecord(workspaceId, k);
      else if (!k.revokedAt || new Date(k.revokedAt) > until) {
        await this.keys.revoke(workspaceId, k._id, until);
        // Read again on next use, so this instance's cache ends with the grace period.
        this.access.forget(k._id);
      }
      revoked.push(keyIdOf(k._id));
    }
    return {
      sourceId,
      writeKey: key,
      keyId,
      revokedKeyIds: revoked,
      oldKeysWorkUntil: graceSeconds > 0 && revoked.length ? until.toISOString() : null,
    };
  }

  async createApiKey(workspaceId: string, name: string, scopes: Scope[]): Promise<{ apiKey: string; key: KeyInfo }> {
    const { key, record } = await this.insertKey(workspaceId, 'api', { name, scopes: [...new Set(scopes)], sourceId: null });
    return { apiKey: key, key: describeKey(record) };
  }

  async listKeys(workspaceId: string): Promise<KeyInfo[]> {
    return (await this.keys.all(workspaceId)).map(describeKey);
  }

  /** Revokes a key of the workspace by its id; null when there is none (or it is another workspace's). */
  async revokeKey(workspaceId: string, keyId: string): Promise<KeyInfo | null> {
    const record = (await this.keys.all(workspaceId)).find((k) => keyIdOf(k._id) === keyId);
    if (!record) return null;
    // Revoking a key in its grace period ends it now.
    if (isLive(record)) record.revokedAt = await this.revokeRecord(workspaceId, record);
    return describeKey(record);
  }

  private async revokeRecord(workspaceId: string, record: KeyRecord): Promise<Date> {
    const at = new Date();
    await this.keys.revoke(workspaceId, record._id, at);
    this.access.forget(record._id);
    return at;
  }

  private async insertKey(
    workspaceId: string,
    kind: KeyRecord['kind'],
    fields: Pick<KeyRecord, 'name' | 'scopes' | 'sourceId'>,
  ): Promise<{ key: string; keyId: string; record: KeyRecord }> {
    const key = newKey(kind);
    const record: KeyRecord = { _id: hashKey(key), workspaceId, kind, ...fields, createdAt: new Date(), revokedAt: null };
    await this.keys.insert(workspaceId, record);
    return { key, keyId: keyIdOf(record._id), record };
  }
}
