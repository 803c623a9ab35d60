import { DEFAULT_IDENTITY_RULES, identifierKey } from '@cdp/identity-graph';
import { eventIdentifiers, previousIdCandidates, previousIdentifiers } from './alias';
import { normalizedEvent } from './testing/in-memory-graph';

describe('alias previousId', () => {
  const alias = normalizedEvent('m', { type: 'alias', userId: 'u1', previousId: ' v1 ' });
  const anon = { type: 'anonymous_id', value: 'v1' };
  const user = { type: 'user_id', value: 'v1' };

  it('reads previousId both ways, only on alias calls and when not blocked', () => {
    expect(previousIdCandidates(alias, DEFAULT_IDENTITY_RULES)).toEqual([anon, user]);
    expect(previousIdCandidates({ ...alias, type: 'identify' }, DEFAULT_IDENTITY_RULES)).toEqual([]);
    expect(previousIdCandidates({ ...alias, previousId: 'undefined' }, DEFAULT_IDENTITY_RULES)).toEqual([]);
    expect(previousIdCandidates({ ...alias, previousId: null }, DEFAULT_IDENTITY_RULES)).toEqual([]);
  });

  it('uses the readings the graph knows, else the anonymous id', () => {
    expect(previousIdentifiers([anon, user], new Set())).toEqual([anon]);
    expect(previousIdentifiers([anon, user], new Set([identifierKey(user)]))).toEqual([user]);
    expect(previousIdentifiers([anon, user], new Set([identifierKey(user), identifierKey(anon)]))).toEqual([anon, user]);
  });

  it('groups an alias with everything it may link', () => {
    expect(eventIdentifiers(alias, DEFAULT_IDENTITY_RULES).map(identifierKey).sort()).toEqual([
      'anonymous_id:v1',
      'user_id:u1',
      'user_id:v1',
    ]);
  });
});
