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
