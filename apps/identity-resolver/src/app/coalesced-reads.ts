/**
 * Reads by key that are asked while one is in flight go out together as the next one: the
 * concurrent resolutions of a chunk (independent groups, partitions) share their round trips
 * instead of sending one find each. Every read is sent after it was asked, so it is at least as
 * fresh as a read of its own (it sees the asker's earlier writes). Each asker gets the documents
 * of its own keys, in the order the reader returned them.
 */
export class CoalescedReads<K, D> {
  private pending: { keys: K[]; resolve: (docs: D[]) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    /** One round trip for all the keys (distinct). */
    private readonly read: (keys: K[]) => Promise<D[]>,
    private readonly keyOf: (key: K) => string,
    private readonly keyOfDoc: (doc: D) => string,
  ) {}

  get(keys: K[]): Promise<D[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return new Promise<D[]>((resolve, reject) => {
      this.pending.push({ keys, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        // Let the askers of this turn of the event loop join the first read too.
        await new Promise<void>((r) => setImmediate(r));
        const batch = this.pending.splice(0);
        const keys = new Map<string, K>();
        for (const p of batch) for (const k of p.keys) keys.set(this.keyOf(k), k);
        try {
          const docs = await this.read([...keys.values()]);
          const byKey = new Map(docs.map((d) => [this.keyOfDoc(d), d]));
          // Each asker's distinct keys, as its own find (`$in`) would have answered.
          for (const p of batch) p.resolve([...new Set(p.keys.map(this.keyOf))].flatMap((k) => byKey.get(k) ?? []));
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
