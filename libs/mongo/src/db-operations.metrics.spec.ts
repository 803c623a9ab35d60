import { collectionOf, documentsReturned, documentsSent } from './db-operations.metrics';

describe('db operations metrics', () => {
  it('names the collection of collection commands, from the getMore field for getMore, none for database commands', () => {
    expect(collectionOf('find', { find: 'profiles', filter: {} })).toBe('profiles');
    expect(collectionOf('update', { update: 'identities', updates: [] })).toBe('identities');
    expect(collectionOf('getMore', { getMore: 42n, collection: 'profile_events' })).toBe('profile_events');
    expect(collectionOf('ping', { ping: 1 })).toBe('');
    expect(collectionOf('listCollections', { listCollections: 1 })).toBe('');
  });

  it('counts the documents and statements a write sends, none for reads', () => {
    expect(documentsSent('insert', { insert: 'a', documents: [{}, {}, {}] })).toBe(3);
    expect(documentsSent('update', { update: 'a', updates: [{ q: {}, u: {} }] })).toBe(1);
    expect(documentsSent('delete', { delete: 'a', deletes: [{ q: {} }, { q: {} }] })).toBe(2);
    expect(documentsSent('find', { find: 'a', filter: {} })).toBe(0);
  });

  it('counts the documents a reply returns: a cursor batch, the document of findAndModify', () => {
    expect(documentsReturned('find', { cursor: { firstBatch: [{}, {}], id: 0n } })).toBe(2);
    expect(documentsReturned('getMore', { cursor: { nextBatch: [{}], id: 0n } })).toBe(1);
    expect(documentsReturned('findAndModify', { value: { _id: 'x' }, ok: 1 })).toBe(1);
    expect(documentsReturned('findAndModify', { value: null, ok: 1 })).toBe(0);
    expect(documentsReturned('update', { n: 5, ok: 1 })).toBe(0);
  });
});
