import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** A segment's current name and the computed traits it reads, from cdp.segments.definitions.v1. */
export interface SegmentNameDoc extends WorkspaceDocument {
  segmentId: string;
  name: string;
  computedTraitsRead: string[];
  /** The definition's version; a deleted segment's is DELETED, above any record's. */
  version: number;
  deleted: boolean;
}

/** A deleted segment stays deleted: a record that arrives after its tombstone is older than it. */
const DELETED = Number.MAX_SAFE_INTEGER;

/** The latest state of one key of the topic: a definition, or a tombstone (null). */
export type SegmentDefinitionChange = {
  segmentId: string;
  definition: Pick<SegmentNameDoc, 'name' | 'version' | 'computedTraitsRead'> | null;
};

/**
 * `profile_segment_names`: the segmenter's segments, so that `/segments` and the export show a
 * segment's current name, not the one of the profile's last transition in it, and a computed
 * trait that a segment reads is not deleted from under it.
 */
@Injectable()
export class SegmentNamesRepository extends WorkspaceRepository<SegmentNameDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_segment_names', ['segmentId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, segmentId: 1 }, name: 'workspace_segment', unique: true }];
  }

  /** Stores each change over an older version only (idempotent under redelivery). */
  async apply(workspaceId: string, changes: SegmentDefinitionChange[]): Promise<void> {
    await this.saveNewest(
      workspaceId,
      changes.map(({ segmentId, definition }) =>
        definition
          ? { segmentId, ...definition, deleted: false }
          : { segmentId, name: '', version: DELETED, computedTraitsRead: [], deleted: true },
      ),
      'version',
    );
  }

  /**
   * Memberships under their segments' current names (a segment this store has no name for keeps
   * the one of its last transition), in name order.
   */
  async withCurrentNames<D extends { segmentId: string; segmentName: string }>(workspaceId: string, docs: D[]): Promise<D[]> {
    const names = await this.namesOf(
      workspaceId,
      docs.map((d) => d.segmentId),
    );
    return docs
      .map((d) => ({ ...d, segmentName: names.get(d.segmentId) ?? d.segmentName }))
      .sort((a, b) => compare(a.segmentName, b.segmentName) || compare(a.segmentId, b.segmentId));
  }

  /** The segments (as `name (id)`) whose definition reads this computed trait. A scan: a workspace has few segments. */
  async readersOf(workspaceId: string, computedTrait: string): Promise<string[]> {
    const docs = await this.find(
      workspaceId,
      { computedTraitsRead: computedTrait, deleted: false },
      { projection: { _id: 0, segmentId: 1, name: 1 } },
    );
    return docs.map((d) => `${d.name} (${d.segmentId})`).sort();
  }

  /** The current names of these segments (a deleted or unknown one has none). */
  private async namesOf(workspaceId: string, segmentIds: string[]): Promise<Map<string, string>> {
    if (segmentIds.length === 0) return new Map();
    const docs = await this.find(
      workspaceId,
      { segmentId: { $in: [...new Set(segmentIds)] } },
      { projection: { _id: 0, segmentId: 1, name: 1, deleted: 1 } },
    );
    return new Map(docs.filter((d) => !d.deleted).map((d) => [d.segmentId, d.name]));
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
