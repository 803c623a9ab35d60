import type { NormalizedEvent } from '@cdp/contracts';
import { describeMerge, toIdentityMerge, toResolvedEvent, type StoredMerge } from './outputs';

const event: NormalizedEvent = {
  workspaceId: 'ws',
  sourceId: 'src',
  messageId: 'm1',
  type: 'identify',
  event: null,
  name: null,
  userId: 'u1',
  anonymousId: 'a1',
  groupId: null,
  previousId: null,
  timestamp: 10,
  receivedAt: 20,
  traits: '{"email":"j@x.io"}',
  properties: '{}',
  context: '{}',
  violations: ['v'],
};

const stored: StoredMerge = {
  fromProfileId: 'p2',
  intoProfileId: 'p1',
  merge: {
    mergeId: 'm_1',
    reason: 'shared_identifier',
    identifiers: [{ type: 'user_id', value: 'u1' }],
    messageId: 'm1',
    mergedAt: new Date(30),
    receivedAt: new Date(20),
  },
};

describe('outputs', () => {
  it('attributes the event to the profile with its identifiers, dropping what the resolved contract has not', () => {
    const resolved = toResolvedEvent(event, 'p1', [{ type: 'user_id', value: 'u1' }]);
    expect(resolved).toMatchObject({
      workspaceId: 'ws',
      profileId: 'p1',
      messageId: 'm1',
      identifiers: [{ type: 'user_id', value: 'u1' }],
      traits: event.traits,
    });
    expect(resolved).not.toHaveProperty('violations');
    expect(resolved).not.toHaveProperty('previousId');
  });

  it('turns a stored merge into the merges-topic record and the API view', () => {
    expect(toIdentityMerge('ws', stored)).toEqual({
      workspaceId: 'ws',
      mergeId: 'm_1',
      fromProfileId: 'p2',
      intoProfileId: 'p1',
      reason: 'shared_identifier',
      identifiers: [{ type: 'user_id', value: 'u1' }],
      score: null,
      messageId: 'm1',
      mergedAt: 30,
      receivedAt: 20,
    });
    expect(describeMerge(stored).mergedAt).toBe(new Date(30).toISOString());
  });

  it('explains a merge: rule, identifiers, causing event and its time, and a score when there is one', () => {
    const scored: StoredMerge = {
      ...stored,
      merge: {
        ...stored.merge,
        reason: 'fuzzy_match',
        timestamp: new Date(10),
        score: { total: 12.5, fields: [{ field: 'name', weight: 8 }] },
      },
    };
    expect(describeMerge(scored)).toEqual({
      mergeId: 'm_1',
      fromProfileId: 'p2',
      intoProfileId: 'p1',
      reason: 'fuzzy_match',
      identifiers: [{ type: 'user_id', value: 'u1' }],
      messageId: 'm1',
      eventTimestamp: new Date(10).toISOString(),
      receivedAt: new Date(20).toISOString(),
      mergedAt: new Date(30).toISOString(),
      score: { total: 12.5, fields: [{ field: 'name', weight: 8 }] },
    });
    expect(toIdentityMerge('ws', scored).score).toBe(12.5);
    expect(describeMerge(stored)).toMatchObject({ eventTimestamp: null, score: null });
  });
});
