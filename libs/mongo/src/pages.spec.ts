import fc from 'fast-check';
import type { AbstractCursor } from 'mongodb';
import { inPages } from './pages';

/** Just what inPages uses of a driver cursor: its documents and close(). */
function cursorOf<T>(docs: T[]): { cursor: AbstractCursor<T>; closed: () => number } {
  let closes = 0;
  const fake = {
    async *[Symbol.asyncIterator]() {
      yield* docs;
    },
    close: async () => void closes++,
  };
  return { cursor: fake as unknown as AbstractCursor<T>, closed: () => closes };
}

describe('inPages', () => {
  it('gives every document once, in order, in full pages but the last, and closes the cursor', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer()), fc.integer({ min: 1, max: 7 }), async (docs, size) => {
        const { cursor, closed } = cursorOf(docs);
        const pages: number[][] = [];
        for await (const page of inPages(cursor, size)) pages.push(page);
        expect(pages.flat()).toEqual(docs);
        expect(pages.slice(0, -1).every((p) => p.length === size)).toBe(true);
        expect(pages.every((p) => p.length > 0 && p.length <= size)).toBe(true);
        expect(closed()).toBe(1);
      }),
    );
  });

  it('closes the cursor when the reader stops early', async () => {
    const { cursor, closed } = cursorOf([1, 2, 3, 4, 5]);
    for await (const page of inPages(cursor, 2)) if (page[0] === 1) break;
    expect(closed()).toBe(1);
  });
});
