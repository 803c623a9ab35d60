import fc from 'fast-check';
import type { AbstractCursor } from 'mongodb';
import { inPages, readAhead } from './pages';

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

describe('readAhead', () => {
  /** A source that records when each item is read and when the caller is done with it. */
  async function* source(items: number[], log: string[], failAt?: number): AsyncGenerator<number> {
    try {
      for (const [i, item] of items.entries()) {
        if (i === failAt) throw new Error(`read ${i} failed`);
        log.push(`read ${item}`);
        yield item;
      }
    } finally {
      log.push('closed');
    }
  }

  it('gives every item once, in order, reading the next one before the caller finishes the current one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 20 }), async (n) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const log: string[] = [];
        const seen: number[] = [];
        for await (const item of readAhead(source(items, log))) {
          await new Promise((r) => setImmediate(r));
          log.push(`done ${item}`);
          seen.push(item);
        }
        expect(seen).toEqual(items);
        for (const i of items.slice(0, -1)) expect(log.indexOf(`read ${i + 1}`)).toBeLessThan(log.indexOf(`done ${i}`));
        expect(log.filter((l) => l === 'closed')).toHaveLength(1);
      }),
    );
  });

  it('closes the source when the caller stops early, and raises a failed read where it is reached', async () => {
    const log: string[] = [];
    for await (const item of readAhead(source([1, 2, 3], log))) if (item === 1) break;
    expect(log.at(-1)).toBe('closed');

    const seen: number[] = [];
    const run = async () => {
      for await (const item of readAhead(source([1, 2, 3], [], 1))) {
        await new Promise((r) => setTimeout(r, 5)); // the failed read is not awaited meanwhile
        seen.push(item);
      }
    };
    await expect(run()).rejects.toThrow('read 1 failed');
    expect(seen).toEqual([1]);
  });
});
