import fc from 'fast-check';
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

interface Member extends WorkspaceDocument {
  segmentId: string;
  profileId: string;
  member?: boolean;
}

/** A repository with a natural key; records what it would send instead of touching a database. */
class Members extends WorkspaceRepository<Member> {
  readonly sent: unknown[] = [];
  constructor() {
    const record = (...args: unknown[]) => {
      this.sent.push(args);
      return Promise.resolve({});
    };
    super({ collection: () => ({ insertOne: record, updateOne: record, bulkWrite: record }) } as unknown as Db, 'members', [
      'segmentId',
      'profileId',
    ]);
  }
  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, segmentId: 1, profileId: 1 }, unique: true }];
  }
  scoped(workspaceId: string, filter: Record<string, unknown>) {
    return this.scope(workspaceId, filter);
  }
  id(workspaceId: string, ...key: string[]) {
    return this.keyId(workspaceId, ...key);
  }
  insert(workspaceId: string, doc: Omit<Member, 'workspaceId'>) {
    return this.insertOne(workspaceId, doc as Member);
  }
  upsert(workspaceId: string, filter: Record<string, unknown>) {
    return this.updateOne(workspaceId, filter, { $set: { member: true } }, { upsert: true });
  }
  bulk(workspaceId: string, docs: Omit<Member, 'workspaceId'>[]) {
    return this.bulkWrite(
      workspaceId,
      docs.map((d) => ({ insertOne: { document: d as Member } })),
    );
  }
}

describe('WorkspaceRepository with a natural key', () => {
  const keyPart = fc.string({ maxLength: 12 });

  it('gives different keys different ids, whatever characters they hold', () => {
    const m = new Members();
    fc.assert(
      fc.property(fc.tuple(keyPart, keyPart, keyPart), fc.tuple(keyPart, keyPart, keyPart), (a, b) => {
        fc.pre(a.join('\u0000') !== b.join('\u0000'));
        expect(m.id(...a)).not.toBe(m.id(...b));
      }),
    );
  });

  it('filters on the _id when the whole key is given, and only then', () => {
    const m = new Members();
    expect(m.scoped('ws', { segmentId: 's', profileId: 'p', member: true })).toEqual({
      segmentId: 's',
      profileId: 'p',
      member: true,
      workspaceId: 'ws',
      _id: 'ws:s:p',
    });
    expect(m.scoped('ws', { profileId: 'p' })).toEqual({ profileId: 'p', workspaceId: 'ws' });
    expect(m.scoped('ws', { segmentId: { $gt: 's' }, profileId: 'p' })).not.toHaveProperty('_id');
  });

  it('expands $in lists into the ids of every combination', () => {
    const m = new Members();
    expect(m.scoped('ws', { segmentId: { $in: ['a', 'b'] }, profileId: 'p' })._id).toEqual({ $in: ['ws:a:p', 'ws:b:p'] });
  });

  it('stores inserted documents under their key id, in single and bulk writes', async () => {
    const m = new Members();
    await m.insert('ws', { segmentId: 's/1', profileId: 'p:1' });
    await m.bulk('ws', [{ segmentId: 's', profileId: 'p' }]);
    expect(m.sent[0]).toEqual([{ _id: 'ws:s%2F1:p%3A1', segmentId: 's/1', profileId: 'p:1', workspaceId: 'ws' }]);
    expect(m.sent[1]).toEqual([
      [{ insertOne: { document: { _id: 'ws:s:p', segmentId: 's', profileId: 'p', workspaceId: 'ws' } } }],
      { ordered: false },
    ]);
  });

  it('runs every upsert of upsertEach even when one meets a duplicate key, and ignores that one', async () => {
    const sent: unknown[] = [];
    const db = {
      collection: () => ({
        updateOne: (filter: { profileId: string }) => {
          sent.push(filter.profileId);
          return filter.profileId === 'b' ? Promise.reject(Object.assign(new Error('E11000'), { code: 11000 })) : Promise.resolve({});
        },
      }),
    } as unknown as Db;
    class Each extends WorkspaceRepository<Member> {
      constructor() {
        super(db, 'each', ['segmentId', 'profileId']);
      }
      indexes(): IndexDescription[] {
        return [];
      }
      run(ids: string[]) {
        return this.upsertEach(
          'ws',
          ids.map((profileId) => ({ filter: { segmentId: 's', profileId }, update: { $set: { member: true } } })),
        );
      }
    }
    await new Each().run(['a', 'b', 'c']);
    expect(sent).toEqual(['a', 'b', 'c']);
  });

  it('refuses an upsert that does not name the whole key', async () => {
    const m = new Members();
    await expect(m.upsert('ws', { profileId: 'p' })).rejects.toThrow('an upsert must name the whole key');
    await m.upsert('ws', { segmentId: 's', profileId: 'p' });
    expect(m.sent).toHaveLength(1);
  });
});

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
