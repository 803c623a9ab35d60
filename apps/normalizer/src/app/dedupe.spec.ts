import fc from 'fast-check';
import { claimedNow, claimsOf, isDuplicate, positionOf, type Candidate } from './dedupe';

const c = (workspaceId: string, messageId: string, offset: number): Candidate => ({
  workspaceId,
  messageId,
  position: positionOf({ topic: 'raw', partition: 0, offset: String(offset) }),
});

describe('dedupe decisions', () => {
  it('claims each workspace + messageId for its first record in the chunk', () => {
    const claims = claimsOf([c('w1', 'm', 1), c('w1', 'm', 2), c('w2', 'm', 3)]);
    expect(claims.get('w1')).toEqual(new Map([['m', 'raw/0/1']]));
    expect(claims.get('w2')).toEqual(new Map([['m', 'raw/0/3']]));
  });

  it('produces the holder of the claim every time it is delivered, drops every other record', () => {
    const holders = new Map([['w1', new Map([['m', 'raw/0/1']])]]);
    expect(isDuplicate(c('w1', 'm', 1), holders)).toBe(false);
    expect(isDuplicate(c('w1', 'm', 2), holders)).toBe(true);
    expect(isDuplicate(c('w2', 'm', 2), holders)).toBe(false);
  });

  it('tells the delivery that made a claim from a redelivery and from copies', () => {
    const holders = new Map([['w1', new Map([['m', 'raw/0/1']])]]);
    expect(claimedNow(c('w1', 'm', 1), holders, new Map())).toBe(true);
    expect(claimedNow(c('w1', 'm', 1), holders, new Map([['w1', new Set(['m'])]]))).toBe(false);
    expect(claimedNow(c('w1', 'm', 2), holders, new Map())).toBe(false);
    expect(claimedNow(c('w1', 'm', 1), holders, new Map([['w2', new Set(['m'])]]))).toBe(true);
  });

  it('counts each workspace + messageId once when counting only new claims, across any redelivery', () => {
    const event = fc.record({ workspaceId: fc.constantFrom('w1', 'w2'), messageId: fc.constantFrom('a', 'b', 'c') });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), fc.array(fc.nat(30), { maxLength: 4 }), (events, restarts) => {
        const stream = events.map((e, i) => c(e.workspaceId, e.messageId, i));
        const store = new Map<string, Map<string, string>>();
        const counted: Candidate[] = [];
        for (const from of [0, ...restarts.map((r) => Math.min(r, stream.length))]) {
          const chunk = stream.slice(from);
          const earlier = new Map<string, Set<string>>();
          for (const [ws, claims] of claimsOf(chunk)) {
            const held = store.get(ws) ?? new Map<string, string>();
            earlier.set(ws, new Set([...claims.keys()].filter((m) => held.has(m))));
            for (const [m, p] of claims) if (!held.has(m)) held.set(m, p);
            store.set(ws, held);
          }
          counted.push(...chunk.filter((x) => claimedNow(x, store, earlier)));
        }
        expect(counted.map((x) => `${x.workspaceId}|${x.messageId}`).sort()).toEqual(
          [...new Set(events.map((e) => `${e.workspaceId}|${e.messageId}`))].sort(),
        );
      }),
    );
  });

  it('lets exactly one record per workspace + messageId through, across any redelivery of a stream', () => {
    const event = fc.record({ workspaceId: fc.constantFrom('w1', 'w2'), messageId: fc.constantFrom('a', 'b', 'c') });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), fc.array(fc.nat(30), { maxLength: 4 }), (events, restarts) => {
        const stream = events.map((e, i) => c(e.workspaceId, e.messageId, i));
        const store = new Map<string, Map<string, string>>();
        const produced: Candidate[] = [];
        // Crash and restart at arbitrary offsets: everything from there is delivered again.
        const starts = [0, ...restarts.map((r) => Math.min(r, stream.length))];
        for (const from of starts) {
          const chunk = stream.slice(from);
          for (const [ws, claims] of claimsOf(chunk)) {
            const held = store.get(ws) ?? new Map<string, string>();
            for (const [m, p] of claims) if (!held.has(m)) held.set(m, p);
            store.set(ws, held);
          }
          produced.push(...chunk.filter((x) => !isDuplicate(x, store)));
        }
        const distinct = new Set(produced.map((p) => `${p.workspaceId}|${p.messageId}|${p.position}`));
        const ids = new Set(events.map((e) => `${e.workspaceId}|${e.messageId}`));
        // One position per workspace + messageId (its effect, re-produced only by redelivery).
        expect(distinct.size).toBe(ids.size);
        for (const id of ids) expect(produced.some((p) => `${p.workspaceId}|${p.messageId}` === id)).toBe(true);
      }),
    );
  });
});
