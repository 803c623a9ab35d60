import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type FindOneAndUpdateOptions,
  type FindOptions,
  type IndexDescription,
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

/**
 * Base of every repository: each method takes the workspace id first and adds it to the
 * query, so a query without a tenant filter cannot be written through it.
 */
export abstract class WorkspaceRepository<T extends WorkspaceDocument> {
  protected readonly collection: Collection<T>;

  protected constructor(
    db: Db,
    readonly collectionName: string,
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

  protected scope(workspaceId: string, filter: ScopedFilter<T> = {} as ScopedFilter<T>): Filter<T> {
    if (!workspaceId) throw new Error(`${this.collectionName}: workspace id is required`);
    return { ...filter, workspaceId } as Filter<T>;
  }

  protected findOne(workspaceId: string, filter: ScopedFilter<T>, options?: FindOptions): Promise<WithId<T> | null> {
    return this.collection.findOne(this.scope(workspaceId, filter), options);
  }

  protected find(workspaceId: string, filter: ScopedFilter<T>, options?: FindOptions): Promise<WithId<T>[]> {
    return this.collection.find(this.scope(workspaceId, filter), options).toArray();
  }

  protected async insertOne(workspaceId: string, doc: OptionalUnlessRequiredId<T>): Promise<void> {
    await this.collection.insertOne({ ...doc, workspaceId });
  }

  protected updateOne(workspaceId: string, filter: ScopedFilter<T>, update: UpdateFilter<T>, options?: UpdateOptions) {
    return this.collection.updateOne(this.scope(workspaceId, filter), update, options);
  }

  protected findOneAndUpdate(workspaceId: string, filter: ScopedFilter<T>, update: UpdateFilter<T>, options: FindOneAndUpdateOptions = {}) {
    return this.collection.findOneAndUpdate(this.scope(workspaceId, filter), update, { ...options, includeResultMetadata: false });
  }

  protected deleteMany(workspaceId: string, filter: ScopedFilter<T>) {
    return this.collection.deleteMany(this.scope(workspaceId, filter));
  }

  /** Unordered bulk write; every operation's filter is scoped to the workspace. */
  protected async bulkWrite(workspaceId: string, ops: AnyBulkWriteOperation<T>[]): Promise<void> {
    if (ops.length === 0) return;
    const scoped = ops.map((op) => {
      if ('updateOne' in op) return { updateOne: { ...op.updateOne, filter: this.scope(workspaceId, op.updateOne.filter) } };
      if ('updateMany' in op) return { updateMany: { ...op.updateMany, filter: this.scope(workspaceId, op.updateMany.filter) } };
      if ('replaceOne' in op) return { replaceOne: { ...op.replaceOne, filter: this.scope(workspaceId, op.replaceOne.filter) } };
      if ('deleteOne' in op) return { deleteOne: { ...op.deleteOne, filter: this.scope(workspaceId, op.deleteOne.filter) } };
      if ('deleteMany' in op) return { deleteMany: { ...op.deleteMany, filter: this.scope(workspaceId, op.deleteMany.filter) } };
      return { insertOne: { document: { ...op.insertOne.document, workspaceId } } };
    }) as AnyBulkWriteOperation<T>[];
    await this.collection.bulkWrite(scoped, { ordered: false });
  }
}

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
