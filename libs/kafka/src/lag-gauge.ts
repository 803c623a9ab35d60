import type { Gauge } from 'prom-client';

type Labels = 'topic' | 'partition';
export interface LagPosition {
  topic: string;
  partition: number;
  highWatermark?: string;
}

/** How long a partition's lag stands without a new fetch of it before it is dropped. */
const FRESH_MS = 60_000;

/**
 * `cdp_consumer_lag_records` per partition of one consumer group, kept honest in the two cases a
 * value set after each handled chunk gets wrong: while chunks fail (a database outage) the lag is
 * that of the chunk's first record, so it grows with the backlog instead of reading 0; and a
 * partition not fetched for a minute (handed to another instance by a rebalance, or caught up
 * and idle) drops out instead of standing at its last value in the group's sum.
 */
export class LagGauge {
  private readonly seen = new Map<string, { labels: Record<Labels, string>; at: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly gauge: Gauge<Labels>,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.sweep(), FRESH_MS / 2).unref();
  }

  /** Before handling a chunk: everything from its first record on is still to do. */
  pending(position: LagPosition, firstOffset: string): void {
    this.set(position, firstOffset, 0n);
  }

  /** After a chunk is stored: what comes after its last record. */
  handled(position: LagPosition, lastOffset: string): void {
    this.set(position, lastOffset, 1n);
  }

  /** Drops partitions not fetched within FRESH_MS. */
  sweep(): void {
    const cutoff = this.now() - FRESH_MS;
    for (const [key, { labels, at }] of this.seen)
      if (at < cutoff) {
        this.gauge.remove(labels);
        this.seen.delete(key);
      }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private set({ topic, partition, highWatermark }: LagPosition, offset: string, done: bigint): void {
    if (highWatermark === undefined) return;
    const labels = { topic, partition: String(partition) };
    this.gauge.set(labels, Math.max(0, Number(BigInt(highWatermark) - BigInt(offset) - done)));
    this.seen.set(`${topic}\n${partition}`, { labels, at: this.now() });
  }
}
