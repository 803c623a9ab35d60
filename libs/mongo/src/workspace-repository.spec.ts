import type { Db, IndexDescription } from 'mongodb';
import { isDuplicateKey, WorkspaceRepository, type WorkspaceDocument } from './workspace-repository';

interface Thing extends WorkspaceDocument {
  name: string;
}

/** Exposes the protected scoping to the test; the collection is never touched. */
class Things extends WorkspaceRepository<Thing> {
  constructor() {
    super({ collection: () => ({}) } as unknown as Db, 'things');
  }
  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, name: 1 }, unique: true }];
  }
  scoped(workspaceId: string, filter: Record<string, unknown>) {
    return this.scope(workspaceId, filter);
  }
}

describe('WorkspaceRepository', () => {
  it('adds the workspace to every filter, over anything the filter says', () => {
    expect(new Things().scoped('ws1', { name: 'a', workspaceId: 'other' })).toEqual({ name: 'a', workspaceId: 'ws1' });
  });

  it('refuses a query without a workspace', () => {
    expect(() => new Things().scoped('', { name: 'a' })).toThrow('workspace id is required');
  });

  it('recognises duplicate-key errors only', () => {
    expect(isDuplicateKey({ code: 11000 })).toBe(true);
    expect(isDuplicateKey({ code: 11001 })).toBe(false);
    expect(isDuplicateKey(new Error('x'))).toBe(false);
  });
});
