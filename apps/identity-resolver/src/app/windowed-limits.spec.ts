import fc from 'fast-check';
import { DEFAULT_IDENTITY_RULES, identifierDigest, type Identifier } from '@cdp/identity-graph';
import { brokenWindow, decideWithinWindows, maxDistinctInWindow, maxInWindow, type WindowedProfileState } from './windowed-limits';

const DAY = 86_400_000;

describe('maxInWindow', () => {
  it('counts the fullest half-open window', () => {
    expect(maxInWindow([], DAY)).toBe(0);
    expect(maxInWindow([0, DAY - 1, DAY, 3 * DAY], DAY)).toBe(2);
    expect(maxInWindow([5, 5, 5], 1)).toBe(3);
  });

  it('equals a brute force over every window start', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 12 }), fc.integer({ min: 1, max: 20 }), (times, w) => {
        // A fullest window can always start at one of the times.
        const brute = Math.max(0, ...times.map((s) => times.filter((t) => t >= s && t < s + w).length));
        expect(maxInWindow(times, w)).toBe(brute);
      }),
    );
  });
});

describe('maxDistinctInWindow', () => {
  it('counts each key once per window, and equals a brute force', () => {
    expect(
      maxDistinctInWindow(
        [
          { key: 'a', at: 0 },
          { key: 'a', at: 1 },
          { key: 'b', at: 5 },
        ],
        10,
      ),
    ).toBe(2);
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), at: fc.integer({ min: 0, max: 40 }) }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 15 }),
        (points, w) => {
          const brute = Math.max(
            0,
            ...points.map((s) => new Set(points.filter((p) => p.at >= s.at && p.at < s.at + w).map((p) => p.key)).size),
          );
          expect(maxDistinctInWindow(points, w)).toBe(brute);
        },
      ),
    );
  });
});

describe('brokenWindow', () => {
  const profile = (profileId: string, emails: number[], counts?: number): WindowedProfileState => ({
    profileId,
    createdAt: 0,
    counts: { email: counts ?? emails.length },
    stamps: emails.map((at, i) => ({ type: 'email', at, key: `${profileId}${i}` })),
  });
  const windows = { email: { max: 2, windowMs: 30 * DAY } };
  const email: Identifier = { type: 'email', value: 'x@y.z' };

  it('allows a new identifier when the window still has room, and refuses it when not', () => {
    expect(brokenWindow([profile('p', [0])], [email], windows, 10 * DAY)).toBeNull();
    expect(brokenWindow([profile('p', [0, 5 * DAY])], [email], windows, 10 * DAY)).toBe('limits.email: 2 per 30d');
    expect(brokenWindow([profile('p', [0, 5 * DAY])], [email], windows, 40 * DAY)).toBeNull();
  });

  it('checks the windows of a merge, whenever the event is', () => {
    expect(brokenWindow([profile('p', [0, DAY]), profile('q', [2 * DAY])], [], windows, 400 * DAY)).toBe('limits.email: 2 per 30d');
    expect(brokenWindow([profile('p', [0, DAY]), profile('q', [100 * DAY])], [], windows, 400 * DAY)).toBeNull();
  });

  it('counts an identifier the event carries at the event time too', () => {
    // p's email is old; the event carries it and a new one: both are the person's now.
    const old: Identifier = { type: 'email', value: 'old' };
    const p: WindowedProfileState = { profileId: 'p', createdAt: 0, counts: { email: 1 }, stamps: [{ type: 'email', at: 0, key: 'k' }] };
    const oneWindow = { email: { max: 1, windowMs: 30 * DAY } };
    expect(brokenWindow([p], [email], oneWindow, 100 * DAY)).toBeNull();
    const carriedKey = { ...p, stamps: [{ type: 'email', at: 0, key: identifierDigest(old) }] };
    expect(brokenWindow([carriedKey], [email], oneWindow, 100 * DAY, [old])).toBe('limits.email: 1 per 30d');
  });

  it('assumes identifiers without a stamp are in every window', () => {
    expect(brokenWindow([profile('p', [], 2)], [email], windows, 400 * DAY)).toBe('limits.email: 2 per 30d');
    expect(brokenWindow([profile('p', [], 1)], [email], windows, 400 * DAY)).toBeNull();
  });

  it('lets a profile already over the limit receive events without growing', () => {
    const over = profile('p', [0, 1, 2]);
    expect(brokenWindow([over], [], windows, 3)).toBeNull();
    expect(brokenWindow([over], [email], windows, 3)).toBe('limits.email: 2 per 30d');
  });
});

describe('decideWithinWindows', () => {
  const rules = { ...DEFAULT_IDENTITY_RULES, limits: { user_id: 1, email: Number.POSITIVE_INFINITY } };
  const user: Identifier = { type: 'user_id', value: 'u' };
  const anon: Identifier = { type: 'anonymous_id', value: 'a' };
  const email: Identifier = { type: 'email', value: 'e' };

  it('demotes the weakest identifier first, then the next, until the windows hold', () => {
    const d = decideWithinWindows({
      workspaceId: 'ws',
      identifiers: [user, anon, email],
      matches: [{ identifier: user, profileId: 'p' }],
      profiles: [
        { profileId: 'p', createdAt: 0, counts: { user_id: 1, email: 1, anonymous_id: 1 }, stamps: [{ type: 'email', at: 0, key: 'k' }] },
      ],
      rules: { ...rules, limits: { ...rules.limits, anonymous_id: 1 } },
      windows: { email: { max: 1, windowMs: DAY } },
      at: 1,
    });
    expect(d).toMatchObject({
      action: 'attach',
      profileId: 'p',
      identifiers: [user],
      attach: [],
      demoted: [
        { identifier: anon, limit: 'limits.anonymous_id: 1' },
        { identifier: email, limit: 'limits.email: 1 per 1d' },
      ],
    });
  });
});
