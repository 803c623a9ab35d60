import type { AbstractCursor } from 'mongodb';

/**
 * A cursor's documents `size` at a time (the last page may be shorter), closing the cursor when
 * the pages run out or the reader stops early. One cursor for a whole scan: the local FerretDB
 * scans the collection for every query, so a query per page would cost a scan per page.
 */
export async function* inPages<T>(cursor: AbstractCursor<T>, size: number): AsyncGenerator<T[]> {
  try {
    let page: T[] = [];
    for await (const doc of cursor) {
      page.push(doc);
      if (page.length >= size) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  } finally {
    await cursor.close();
  }
}

/**
 * The same items, with the next one already being read while the caller works on the current
 * one: a scan and the work on its pages overlap instead of taking turns.
 */
export async function* readAhead<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  // A read that fails while the caller is busy is raised when it is reached, not as unhandled.
  next.catch(() => undefined);
  try {
    for (;;) {
      const { done, value } = await next;
      if (done) return;
      next = source.next();
      next.catch(() => undefined);
      yield value;
    }
  } finally {
    // Stopped early: the read in flight settles before the source closes (closing its cursor).
    await next.catch(() => undefined);
    await source.return(undefined);
  }
}
