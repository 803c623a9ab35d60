import { groupBy } from '@cdp/platform';
import { Coalescer } from './coalescer';

/**
 * Reads by key that are asked while one is in flight go out together as the next one: the
 * concurrent resolutions of a chunk (independent groups, partitions) share their round trips
 * instead of sending one find each. Every read is sent after it was asked, so it is at least as
 * fresh as a read of its own (it sees the asker's earlier writes). Each asker gets the documents
 * of its own keys, in the order the reader returned them.
 */
export class CoalescedReads<K, D> {
  private readonly reads: Coalescer<K[], D[]>;

  constructor(
    /** One round trip for all the keys (distinct). */
    read: (keys: K[]) => Promise<D[]>,
    keyOf: (key: K) => string,
    keyOfDoc: (doc: D) => string,
  ) {
    this.reads = new Coalescer<K[], D[]>(async (asks) => {
      const keys = new Map<string, K>();
      for (const ask of asks) for (const k of ask) keys.set(keyOf(k), k);
      const byKey = new Map((await read([...keys.values()])).map((d) => [keyOfDoc(d), d]));
      // Each asker's distinct keys, as its own find (`$in`) would have answered.
      return asks.map((ask) => [...new Set(ask.map(keyOf))].flatMap((k) => byKey.get(k) ?? []));
    });
  }

  get(keys: K[]): Promise<D[]> {
    return keys.length === 0 ? Promise.resolve([]) : this.reads.ask(keys);
  }
}

/** One read per workspace of the keys (a coalesced read may span workspaces). */
export async function byWorkspace<K extends { ws: string }, D>(keys: K[], read: (ws: string, keys: K[]) => Promise<D[]>): Promise<D[]> {
  const groups = groupBy(keys, (k) => k.ws);
  return (await Promise.all([...groups].map(([ws, ks]) => read(ws, ks)))).flat();
}
