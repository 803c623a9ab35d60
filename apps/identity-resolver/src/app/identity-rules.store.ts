import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { IdentityRulesInput } from './identity-rules';

/** The rules a workspace set (not the merged result, so later default changes reach omitted fields). */
export interface IdentityRulesDoc extends WorkspaceDocument {
  _id: string;
  rules: IdentityRulesInput;
  updatedAt: Date;
}

/** Collection `identity_rules`: one document per workspace, `_id` = the workspace id, so reads use the `_id` index. */
@Injectable()
export class IdentityRulesStore extends WorkspaceRepository<IdentityRulesDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_rules');
  }

  indexes(): IndexDescription[] {
    return [];
  }

  async get(workspaceId: string): Promise<IdentityRulesInput | null> {
    const doc = await this.findOne(workspaceId, { _id: workspaceId }, { projection: { rules: 1 } });
    return doc?.rules ?? null;
  }

  /** Replaces the workspace's rules; `$set` (not `$setOnInsert`, which FerretDB empties of [] on insert). */
  async put(workspaceId: string, rules: IdentityRulesInput): Promise<void> {
    await this.updateOne(workspaceId, { _id: workspaceId }, { $set: { rules, updatedAt: new Date() } }, { upsert: true });
  }
}
