import fc from 'fast-check';
import { FixedWindowStorage } from './fixed-window.storage';

describe('FixedWindowStorage', () => {
  it('lets exactly `limit` requests through per window and key, then blocks until the block ends', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 120 }), async (limit, requests) => {
        let now = 1_000_000;
        const storage = new FixedWindowStorage(() => now);
        let allowed = 0;
        for (let i = 0; i < requests; i++) if (!(await storage.increment('k', 1_000, limit, 5_000, 'default')).isBlocked) allowed++;
        expect(allowed).toBe(Math.min(requests, limit));
        // Another key is not affected.
        expect((await storage.increment('other', 1_000, limit, 5_000, 'default')).isBlocked).toBe(false);
        now += 1_001;
        const next = await storage.increment('k', 1_000, limit, 5_000, 'default');
        expect(next.isBlocked).toBe(requests > limit);
        if (next.isBlocked) expect(next.timeToBlockExpire).toBe(4);
        now += 5_000;
        expect((await storage.increment('k', 1_000, limit, 5_000, 'default')).isBlocked).toBe(false);
      }),
    );
  });
});
