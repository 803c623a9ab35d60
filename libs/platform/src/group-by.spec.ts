import fc from 'fast-check';
import { groupBy, indexesBy } from './group-by';

describe('groupBy', () => {
  it('keeps every item once, in input order within its group, groups in first-seen order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer())), (items) => {
        const groups = groupBy(items, ([k]) => k);
        expect([...groups.keys()]).toEqual([...new Set(items.map(([k]) => k))]);
        for (const [k, list] of groups) expect(list).toEqual(items.filter(([x]) => x === k));
      }),
    );
  });

  it('gives the key function each item index', () => {
    expect(groupBy(['x', 'y', 'z'], (_, i) => i % 2)).toEqual(
      new Map([
        [0, ['x', 'z']],
        [1, ['y']],
      ]),
    );
  });
});

describe('indexesBy', () => {
  it('groups the positions of the items by key', () => {
    expect(indexesBy(['w1', 'w2', 'w1'], (w) => w)).toEqual(
      new Map([
        ['w1', [0, 2]],
        ['w2', [1]],
      ]),
    );
  });
});
