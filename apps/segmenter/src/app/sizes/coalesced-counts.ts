/** Counts to add to one stored counter. */
export interface Delta {
  entered: number;
  exited: number;
}

interface Pending<K> {
  key: K;
  delta: Delta;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/**
 * Adds to stored counters with at most one write in flight per counter: what is added while a
 * counter's write is out goes in its next write, as one summed increment. A backfill that enters
 * thousands of profiles into one segment then writes its day counter tens of times, not
 * thousands (each write to one document waits for the one before it anyway). Each `add`
 * resolves once a write that includes it is stored, and rejects if that write fails.
 */
export class CoalescedCounts<K> {
  private readonly queued = new Map<string, Pending<K>>();
  private readonly writing = new Set<string>();

  constructor(
    private readonly write: (key: K, delta: Delta) => Promise<void>,
    private readonly idOf: (key: K) => string,
  ) {}

  add(key: K, field: keyof Delta): Promise<void> {
    const id = this.idOf(key);
    let pending = this.queued.get(id);
    if (!pending) {
      pending = { key, delta: { entered: 0, exited: 0 }, waiters: [] };
      this.queued.set(id, pending);
    }
    pending.delta[field]++;
    const stored = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }));
    if (!this.writing.has(id)) this.send(id);
    return stored;
  }

  private send(id: string): void {
    const pending = this.queued.get(id);
    if (!pending) return;
    this.queued.delete(id);
    this.writing.add(id);
    this.write(pending.key, pending.delta)
      .then(
        () => pending.waiters.forEach((w) => w.resolve()),
        (e: unknown) => pending.waiters.forEach((w) => w.reject(e)),
      )
      .finally(() => {
        this.writing.delete(id);
        this.send(id);
      });
  }
}
