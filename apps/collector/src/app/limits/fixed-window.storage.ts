import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  /** Epoch ms at which the window ends and the count restarts. */
  endsAt: number;
  /** Epoch ms until which the tracker is refused (0: not blocked). */
  blockedUntil: number;
}

const SWEEP_EVERY = 10_000;

/**
 * A fixed-window counter per tracker: O(1) per request. The throttler's default storage keeps one
 * timestamp per hit and filters them on every request, which costs O(limit) at the high limits
 * the collector needs (thousands of requests per second on one write key).
 */
export class FixedWindowStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<{ totalHits: number; timeToExpire: number; isBlocked: boolean; timeToBlockExpire: number }> {
    const now = this.now();
    this.sweep(now);
    const id = `${throttlerName}\n${key}`;
    let w = this.windows.get(id);
    if (!w || (w.endsAt <= now && w.blockedUntil <= now)) {
      w = { hits: 0, endsAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, w);
    }
    if (w.blockedUntil > now) {
      return {
        totalHits: w.hits,
        timeToExpire: seconds(w.endsAt - now),
        isBlocked: true,
        timeToBlockExpire: seconds(w.blockedUntil - now),
      };
    }
    w.hits++;
    if (w.hits > limit) {
      w.blockedUntil = now + blockDuration;
      w.endsAt = Math.max(w.endsAt, w.blockedUntil);
      return { totalHits: w.hits, timeToExpire: seconds(w.endsAt - now), isBlocked: true, timeToBlockExpire: seconds(blockDuration) };
    }
    return { totalHits: w.hits, timeToExpire: seconds(w.endsAt - now), isBlocked: false, timeToBlockExpire: 0 };
  }

  /** Trackers seen once (a flood of guessed keys) must not pile up. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_EVERY;
    for (const [id, w] of this.windows) if (w.endsAt <= now && w.blockedUntil <= now) this.windows.delete(id);
  }
}

/** Whole seconds, at least 1: what Retry-After carries. */
const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
