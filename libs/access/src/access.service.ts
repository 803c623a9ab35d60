import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Collection } from 'mongodb';
import { PlatformConfig } from '@cdp/platform';
import { isDuplicateKey, MongoConnection } from '@cdp/mongo';
import { hashKey, keyIdOf, SCOPES, type KeyKind } from './keys';

export interface KeyRecord {
  /** sha256 of the key: the key itself is never stored. */
  _id: string;
  workspaceId: string;
  kind: KeyKind;
  scopes: string[];
  sourceId: string | null;
  name: string;
  createdAt: Date;
  /** When the key stops working: null while it has no end; a future time during a rotation's grace period. */
  revokedAt: Date | null;
}

export interface WorkspaceRecord {
  _id: string;
  workspaceId: string;
  name: string;
  createdAt: Date;
}

export interface Principal {
  /** The key's public id (a prefix of its hash), for audit records. */
  keyId: string;
  workspaceId: string;
  kind: KeyKind;
  scopes: string[];
  sourceId: string | null;
}

export const DEMO_WORKSPACE = 'demo';
export const DEMO_SOURCE = 'demo-source';

/** Whether a key works at `now`: not revoked, or revoked for a time still to come. */
export const isLive = (record: Pick<KeyRecord, 'revokedAt'>, now: number = Date.now()): boolean =>
  !record.revokedAt || new Date(record.revokedAt).getTime() > now;

/**
 * Workspaces and their keys (collections `workspaces` and `api_keys`). A key is looked up by
 * its hash alone: the key is what names the workspace, so this is the one read not scoped by
 * a workspace id. Verified keys are cached briefly (CDP_KEY_CACHE_MS); a revocation made on
 * another instance takes effect here within that time.
 */
@Injectable()
export class AccessService implements OnModuleInit {
  private readonly logger = new Logger(AccessService.name);
  private readonly keys: Collection<KeyRecord>;
  private readonly workspaces: Collection<WorkspaceRecord>;
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly lookups = new Map<string, Promise<Principal | null>>();

  constructor(
    mongo: MongoConnection,
    private readonly config: PlatformConfig,
  ) {
    this.keys = mongo.db.collection<KeyRecord>('api_keys');
    this.workspaces = mongo.db.collection<WorkspaceRecord>('workspaces');
  }

  async onModuleInit(): Promise<void> {
    await this.keys.createIndex({ workspaceId: 1, kind: 1 });
    if (this.config.CDP_DEMO_WORKSPACE) await this.ensureDemoWorkspace();
  }

  /** The `demo` workspace with the configured write and API keys, so examples work at once. */
  async ensureDemoWorkspace(): Promise<void> {
    await this.ensureWorkspace(DEMO_WORKSPACE, 'Demo');
    await this.storeKey(this.config.CDP_DEMO_WRITE_KEY, {
      workspaceId: DEMO_WORKSPACE,
      kind: 'write',
      scopes: [],
      sourceId: DEMO_SOURCE,
      name: 'demo write key',
    });
    await this.storeKey(this.config.CDP_DEMO_API_KEY, {
      workspaceId: DEMO_WORKSPACE,
      kind: 'api',
      scopes: [...SCOPES],
      sourceId: null,
      name: 'demo API key',
    });
    this.logger.log('demo workspace ready');
  }

  async ensureWorkspace(workspaceId: string, name: string): Promise<void> {
    await ignoreDuplicate(
      this.workspaces.updateOne({ _id: workspaceId }, { $setOnInsert: { workspaceId, name, createdAt: new Date() } }, { upsert: true }),
    );
  }

  /** Stores a key by hash (idempotent for the same key). */
  async storeKey(key: string, record: Omit<KeyRecord, '_id' | 'createdAt' | 'revokedAt'>): Promise<void> {
    await ignoreDuplicate(
      this.keys.updateOne({ _id: hashKey(key) }, { $setOnInsert: { ...record, createdAt: new Date(), revokedAt: null } }, { upsert: true }),
    );
  }

  /**
   * The principal a key stands for, or null when unknown, revoked or of another kind. An expired
   * cache entry is still answered while it is looked up again in the background, so a database
   * outage does not stop ingestion for known keys (their revocation then waits for the database).
   */
  async verify(key: string, kind: KeyKind): Promise<Principal | null> {
    const id = hashKey(key);
    const cached = this.cache.get(id);
    let principal: Principal | null;
    if (!cached) {
      principal = await this.lookup(id);
    } else {
      if (cached.until <= Date.now())
        this.lookup(id).catch((e: unknown) =>
          this.logger.warn(`key ${keyIdOf(id)}: lookup failed, its cached answer stands: ${e instanceof Error ? e.message : String(e)}`),
        );
      principal = cached.principal;
    }
    return principal?.kind === kind ? principal : null;
  }

  /** Reads a key and caches the answer; concurrent lookups of one key share one read. */
  private lookup(id: string): Promise<Principal | null> {
    let pending = this.lookups.get(id);
    if (!pending) {
      pending = this.keys
        .findOne({ _id: id })
        .then((record) => {
          const now = Date.now();
          const principal =
            record && isLive(record, now)
              ? { keyId: keyIdOf(id), workspaceId: record.workspaceId, kind: record.kind, scopes: record.scopes, sourceId: record.sourceId }
              : null;
          if (this.cache.size > 10_000) this.cache.clear();
          // A key revoked for later (a rotation's grace period) is cached no longer than it lives.
          const ends = record?.revokedAt ? new Date(record.revokedAt).getTime() : Infinity;
          this.cache.set(id, { principal, until: Math.min(now + this.config.CDP_KEY_CACHE_MS, principal ? ends : Infinity) });
          return principal;
        })
        .finally(() => this.lookups.delete(id));
      this.lookups.set(id, pending);
    }
    return pending;
  }

  /** Drops a key from this instance's cache, so that its revocation takes effect here at once. */
  forget(keyHash: string): void {
    this.cache.delete(keyHash);
  }
}

/** Two instances upserting the same document at once: one inserts, the other gets E11000. Both are done. */
async function ignoreDuplicate(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
  }
}
