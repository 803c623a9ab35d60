import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type BulkWriteResult,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type FindOneAndUpdateOptions,
  type FindOptions,
  type IndexDescription,
  type OptionalId,
  type OptionalUnlessRequiredId,
  type UpdateFilter,
  type UpdateOptions,
  type WithId,
  type WriteError,
} from 'mongodb';

/** Every stored record belongs to one workspace. */
export interface WorkspaceDocument extends Document {
  workspaceId: string;
}

/** A filter that may not name the workspace itself: the repository adds it. */
export type ScopedFilter<T> = Omit<Filter<T>, 'workspaceId'>;

/** A natural-key field value that can be part of a document id. */
type KeyValue = string | number;

/** Most documents one `{field: {$in: [...]}}` filter may expand to when it is turned into ids. */
const MAX_KEY_IDS = 1000;

/** Ids one findCombinations query asks for at most. */
const MAX_IDS_PER_QUERY = 500;

/**
 * Base of every repository: each method takes the workspace id first and adds it to the
 * query, so a query without a tenant filter cannot be written through it.
 *
 * A repository that names its natural key (the fields of its unique index after workspaceId)
 * stores each document under a deterministic `_id` built from the workspace and those fields,
 * and every filter that gives the whole key (values, or `$in` lists) also filters on that `_id`.
 * Only `_id` conditions reach an index on the local FerretDB (SQLite): any other filter is
 * evaluated by decoding the whole collection, which is what made lookups grow with the store.
 */
export abstract class WorkspaceRepository<T extends WorkspaceDocument> {
  protected readonly collection: Collection<T>;

  protected constructor(
    db: Db,
    readonly collectionName: string,
    private readonly naturalKey: readonly (keyof T & string)[] = [],
  ) {
    this.collection = db.collection<T>(collectionName);
  }

  /** Indexes this repository needs; each should lead with workspaceId. Created at start-up. */
  abstract indexes(): IndexDescription[];

  /**
   * One index per command: FerretDB 1.24 panics (and drops the connection) on a createIndexes
   * of two or more indexes that already exist, i.e. on every restart; one at a time is idempotent.
   */
  async ensureIndexes(): Promise<void> {
    for (const spec of this.indexes()) await this.collection.createIndexes([spec]);
  }

  /** The `_id` of the document with this natural key: readable, and unambiguous (parts are escaped). */
  protected keyId(workspaceId: string, ...key: KeyValue[]): string {
    return [workspaceId, ...key].map((part) => encodeURIComponent(String(part))).join(':');
  }

  protected scope(workspaceId: string, filter: ScopedFilter<T> = {} as ScopedFilter<T>): Filter<T> {
    if (!workspaceId) throw new Error(`${this.collectionName}: workspace id is required`);
    const scoped: Record<string, unknown> = { ...filter, workspaceId };
    if (!('_id' in filter)) {
      const id = this.idCondition(workspaceId, filter as Record<string, unknown>);
      if (id !== undefined) scoped['_id'] = id;
    }
    return scoped as Filter<T>;
  }

  /** `_id` (or `{$in: ids}`) for a filter that gives every natural-key field; otherwise undefined. */
  private idCondition(workspaceId: string, filter: Record<string, unknown>): string | { $in: string[] } | undefined {
    if (this.naturalKey.length === 0) return undefined;
    let keys: KeyValue[][] = [[]];
    let single = true;
    for (const field of this.naturalKey) {
      const values = keyValues(filter[field]);
      if (!values) return undefined;
      single &&= !Array.isArray(values);
      keys = keys.flatMap((k) => [values].flat().map((v) => [...k, v]));
      if (keys.length > MAX_KEY_IDS) return undefined;
    }
    const ids = keys.map((k) => this.keyId(workspaceId, ...k));
    return single ? ids[0] : { $in: ids };
  }

  /** The document with its workspace and, when the repository has a natural key, its `_id`. */
  private stored<D extends object>(workspaceId: string, doc: D): D & { workspaceId: string } {
    const withWorkspace = { ...doc, workspaceId };
    if (this.naturalKey.length === 0 || '_id' in doc) return withWorkspace;
    const key = this.naturalKey.map((f) => (doc as Record<string, unknown>)[f]);
    if (!key.every(isKeyValue)) throw new Error(`${this.collectionName}: a document needs its whole key (${this.naturalKey.join(', ')})`);
    return { _id: this.keyId(workspaceId, ...key), ...withWorkspace };
  }

  /** An upsert must name the whole key, or the inserted document would not get its `_id`. */
  private upsertScope(workspaceId: string, filter: ScopedFilter<T>, upsert: boolean | undefined): Filter<T> {
    const scoped = this.scope(workspaceId, filter);
    if (upsert && this.naturalKey.length > 0 && typeof (scoped as Record<string, unknown>)['_id'] !== 'string')
      throw new Error(`${this.collectionName}: an upsert must name the whole key (${this.naturalKey.join(', ')})`);
    return scoped;
  }

  protected findOne(workspaceId: string, filter: ScopedFilter<T>, options?: FindOptions): Promise<WithId<T> | null> {
    return this.collection.findOne(this.scope(workspaceId, filter), options);
  }

  protected find(workspaceId: string, filter: ScopedFilter<T>, options?: FindOptions): Promise<WithId<T>[]> {
    return this.collection.find(this.scope(workspaceId, filter), options).toArray();
  }

  /**
   * The documents whose key takes every combination of `firsts` (in field `first`) and `seconds`
   * (in field `second`): read by document id (the key must be the natural key), in as few
   * queries as keep each `_id` list under the store's limit.
   */
  protected async findCombinations(
    workspaceId: string,
    [first, firsts]: [keyof T & string, readonly KeyValue[]],
    [second, seconds]: [keyof T & string, readonly KeyValue[]],
    options?: FindOptions,
  ): Promise<WithId<T>[]> {
    if (firsts.length === 0 || seconds.length === 0) return [];
    const perQuery = Math.max(1, Math.floor(MAX_IDS_PER_QUERY / seconds.length));
    const queries = [];
    for (let i = 0; i < firsts.length; i += perQuery) {
      const filter = { [first]: { $in: firsts.slice(i, i + perQuery) }, [second]: { $in: [...seconds] } } as ScopedFilter<T>;
      queries.push(this.find(workspaceId, filter, options));
    }
    return (await Promise.all(queries)).flat();
  }

  protected async insertOne(workspaceId: string, doc: OptionalUnlessRequiredId<T>): Promise<void> {
    await this.collection.insertOne(this.stored(workspaceId, doc) as OptionalUnlessRequiredId<T>);
  }

  protected async updateOne(workspaceId: string, filter: ScopedFilter<T>, update: UpdateFilter<T>, options?: UpdateOptions) {
    return this.collection.updateOne(this.upsertScope(workspaceId, filter, options?.upsert), update, options);
  }

  protected async findOneAndUpdate(
    workspaceId: string,
    filter: ScopedFilter<T>,
    update: UpdateFilter<T>,
    options: FindOneAndUpdateOptions = {},
  ) {
    return this.collection.findOneAndUpdate(this.upsertScope(workspaceId, filter, options.upsert), update, {
      ...options,
      includeResultMetadata: false,
    });
  }

  protected deleteMany(workspaceId: string, filter: ScopedFilter<T>) {
    return this.collection.deleteMany(this.scope(workspaceId, filter));
  }

  /**
   * Upserts, one command each, where a duplicate key means "a newer or the same document is
   * already there" and is ignored. Not one bulk write: FerretDB 1.24 stops an update command at
   * its first failing statement even when it is unordered, so the upserts after a duplicate
   * would silently not run.
   */
  protected async upsertEach(workspaceId: string, ops: { filter: ScopedFilter<T>; update: UpdateFilter<T> }[]): Promise<void> {
    await Promise.all(
      ops.map(async ({ filter, update }) => {
        try {
          await this.updateOne(workspaceId, filter, update, { upsert: true });
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
        }
      }),
    );
  }

  /**
   * Stores each document unless the stored one with its key has the same or a newer
   * `versionField` (of a batch's documents with one key, the newest counts). One read of the
   * stored versions by `_id`, then one bulk update of the older ones (still guarded on the
   * version) and one insert of the missing ones, instead of an upsert command per document: those
   * cannot share a bulk, as FerretDB stops an update command at its first duplicate key.
   * Documents carry their whole natural key. Returns, for each document, the stored one as it was
   * before this write, with its version and the fields named in `read` (undefined: none was).
   */
  protected async saveNewest(
    workspaceId: string,
    docs: Omit<T, 'workspaceId'>[],
    versionField: keyof T & string,
    read: (keyof T & string)[] = [],
  ): Promise<(Partial<T> | undefined)[]> {
    if (this.naturalKey.length === 0) throw new Error(`${this.collectionName}: saveNewest needs a natural key`);
    const field = (d: object, f: string) => (d as Record<string, unknown>)[f];
    const newest = new Map<string, Omit<T, 'workspaceId'>>();
    const ids = docs.map((doc) => this.stored(workspaceId, doc)._id as string);
    for (const [i, doc] of docs.entries()) {
      const id = ids[i] as string;
      const kept = newest.get(id);
      if (!kept || (field(kept, versionField) as number) < (field(doc, versionField) as number)) newest.set(id, doc);
    }
    if (newest.size === 0) return [];
    const projection = Object.fromEntries([versionField, ...read].map((f) => [f, 1]));
    const stored = await this.collection.find({ _id: { $in: [...newest.keys()] }, workspaceId } as Filter<T>, { projection }).toArray();
    const before = new Map(stored.map((d) => [String(d._id), d as Partial<T>]));
    const older: Omit<T, 'workspaceId'>[] = [];
    const missing: Omit<T, 'workspaceId'>[] = [];
    for (const [id, doc] of newest) {
      const prior = before.get(id);
      if (prior === undefined) missing.push(doc);
      else if ((field(prior, versionField) as number) < (field(doc, versionField) as number)) older.push(doc);
    }
    const updateOlder = (list: Omit<T, 'workspaceId'>[]) =>
      this.bulkWrite(
        workspaceId,
        list.map((doc) => {
          const key = Object.fromEntries(this.naturalKey.map((f) => [f, field(doc, f)]));
          const filter = { ...key, [versionField]: { $lt: field(doc, versionField) } } as Filter<T>;
          return { updateOne: { filter, update: { $set: doc } as UpdateFilter<T> } };
        }),
      );
    const insertMissing = async () => {
      try {
        await this.bulkWrite(
          workspaceId,
          missing.map((doc) => ({ insertOne: { document: doc as OptionalId<T> } })),
        );
      } catch (e) {
        // Inserted since the read (the inserts after a duplicate still ran): updated, guarded, instead.
        if (!isDuplicateKey(e)) throw e;
        await updateOlder(duplicateKeyIndexes(e).map((i) => missing[i]));
      }
    };
    await Promise.all([updateOlder(older), insertMissing()]);
    return ids.map((id) => before.get(id));
  }

  /**
   * Unordered bulk write; every operation's filter is scoped to the workspace. Use it for inserts
   * (FerretDB carries on after a failed insert) and for updates that cannot fail; see upsertEach.
   */
  protected async bulkWrite(workspaceId: string, ops: AnyBulkWriteOperation<T>[]): Promise<BulkWriteResult | null> {
    if (ops.length === 0) return null;
    const scoped = ops.map((op) => {
      if ('updateOne' in op)
        return { updateOne: { ...op.updateOne, filter: this.upsertScope(workspaceId, op.updateOne.filter, op.updateOne.upsert) } };
      if ('updateMany' in op) return { updateMany: { ...op.updateMany, filter: this.scope(workspaceId, op.updateMany.filter) } };
      if ('replaceOne' in op)
        return { replaceOne: { ...op.replaceOne, filter: this.upsertScope(workspaceId, op.replaceOne.filter, op.replaceOne.upsert) } };
      if ('deleteOne' in op) return { deleteOne: { ...op.deleteOne, filter: this.scope(workspaceId, op.deleteOne.filter) } };
      if ('deleteMany' in op) return { deleteMany: { ...op.deleteMany, filter: this.scope(workspaceId, op.deleteMany.filter) } };
      return { insertOne: { document: this.stored(workspaceId, op.insertOne.document) } };
    }) as AnyBulkWriteOperation<T>[];
    return this.collection.bulkWrite(scoped, { ordered: false });
  }
}

const isKeyValue = (v: unknown): v is KeyValue => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** The key value(s) a filter condition names: a value, or the list of a lone `$in`. */
const keyValues = (condition: unknown): KeyValue | KeyValue[] | undefined => {
  if (isKeyValue(condition)) return condition;
  if (typeof condition !== 'object' || condition === null || Object.keys(condition).length !== 1) return undefined;
  const list = (condition as { $in?: unknown }).$in;
  return Array.isArray(list) && list.every(isKeyValue) ? list : undefined;
};

const DUPLICATE_KEY = 11000;

/**
 * True for a duplicate-key error (unique index), which idempotent writes treat as "already done";
 * for an unordered bulk write, true when every failed operation was a duplicate key.
 */
export const isDuplicateKey = (e: unknown): boolean => {
  if (e instanceof MongoBulkWriteError) {
    const writeErrors = ([] as WriteError[]).concat(e.writeErrors ?? []);
    if (writeErrors.length > 0) return writeErrors.every((w) => w.code === DUPLICATE_KEY);
  }
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === DUPLICATE_KEY;
};

/** Indexes of the operations of an unordered bulk write that failed on a duplicate key. */
export const duplicateKeyIndexes = (e: unknown): number[] =>
  e instanceof MongoBulkWriteError
    ? ([] as WriteError[])
        .concat(e.writeErrors ?? [])
        .filter((w) => w.code === DUPLICATE_KEY)
        .map((w) => w.index)
    : [];
