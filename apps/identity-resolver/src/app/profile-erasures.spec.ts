import type { InboundRecord } from '@cdp/kafka';
import { erasuresOf } from './profile-erasures';

const record = (key: string | null, value: Buffer | null, timestamp = 5): InboundRecord => ({
  topic: 't',
  partition: 0,
  offset: '0',
  key: key === null ? null : Buffer.from(key),
  value,
  timestamp,
  headers: {},
});

describe('erasuresOf', () => {
  it('takes the tombstones (workspace and profile id from the key) and ignores every other change', () => {
    expect(
      erasuresOf([
        record('ws:p_1', null, 7),
        record('ws:p_2', Buffer.from('a change')),
        record(null, null),
        record('ws', null),
        record('ws:p:with:colons', null),
      ]),
    ).toEqual([
      { workspaceId: 'ws', profileId: 'p_1', at: new Date(7) },
      { workspaceId: 'ws', profileId: 'p:with:colons', at: new Date(5) },
    ]);
  });
});
