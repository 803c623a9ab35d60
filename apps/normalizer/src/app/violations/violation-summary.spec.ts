import fc from 'fast-check';
import { compilePlan, planViolations } from '@cdp/cleaning';
import { combine, MAX_KIND_CHARS, MAX_PATH_CHARS, parseViolation, summarize, violationKey, type FlaggedEvent } from './violation-summary';

const track = (messageId: string, event: string, violations: string[], workspaceId = 'w1'): FlaggedEvent => ({
  workspaceId,
  type: 'track',
  event,
  messageId,
  violations,
});

describe('parseViolation', () => {
  it("splits the plan's messages into path and kind", () => {
    expect(parseViolation('properties/total must be number')).toEqual({ path: 'properties/total', kind: 'must be number' });
    expect(parseViolation("properties must have required property 'total'")).toEqual({
      path: 'properties',
      kind: "must have required property 'total'",
    });
    expect(parseViolation('traits/email must match format "email"')).toEqual({ path: 'traits/email', kind: 'must match format "email"' });
    expect(parseViolation('properties/first name must be string')).toEqual({ path: 'properties/first name', kind: 'must be string' });
    expect(parseViolation('properties property name must be valid')).toEqual({ path: 'properties', kind: 'property name must be valid' });
    expect(parseViolation('event "Whatever You Like" is not in the tracking plan')).toEqual({
      path: 'event',
      kind: 'is not in the tracking plan',
    });
  });

  it('folds what is data, not a kind: array indexes, the duplicate items', () => {
    expect(parseViolation('properties/products/12/price must be number')).toEqual({
      path: 'properties/products/*/price',
      kind: 'must be number',
    });
    expect(parseViolation('properties/tags must NOT have duplicate items (items ## 3 and 1 are identical)')).toEqual({
      path: 'properties/tags',
      kind: 'must NOT have duplicate items',
    });
  });

  it('keeps text of another shape as the kind, and bounds both parts', () => {
    expect(parseViolation('something else')).toEqual({ path: '', kind: 'something else' });
    const long = parseViolation(`properties/${'k'.repeat(5_000)} must be ${'x'.repeat(5_000)}`);
    expect(long.path).toHaveLength(MAX_PATH_CHARS);
    expect(long.kind).toHaveLength(MAX_KIND_CHARS);
  });

  it('reads what planViolations reports', () => {
    const plan = compilePlan({
      mode: 'flag',
      events: { Order: { type: 'object', required: ['total'], properties: { items: { type: 'array', items: { type: 'number' } } } } },
    });
    const violations = planViolations(plan, { type: 'track', event: 'Order', properties: { items: [1, 'x', 'y'] }, traits: {} });
    expect(violations.map(parseViolation)).toEqual([
      { path: 'properties', kind: "must have required property 'total'" },
      { path: 'properties/items/*', kind: 'must be number' },
      { path: 'properties/items/*', kind: 'must be number' },
    ]);
  });
});

describe('summarize', () => {
  it('groups per workspace and kind, counts each event once per kind, keeps the last example', () => {
    const summaries = summarize([
      track('m1', 'Order', ['properties/total must be number']),
      track('m2', 'Order', ['properties/items/0 must be number', 'properties/items/1 must be number', 'properties/total must be number']),
      track('m3', 'Signup', ['properties/total must be number']),
      track('m4', 'Order', ['properties/total must be number'], 'w2'),
      { workspaceId: 'w1', type: 'identify', event: null, messageId: 'm5', violations: ['traits/email must match format "email"'] },
    ]);
    expect([...summaries.keys()]).toEqual(['w1', 'w2']);
    const w1 = summaries.get('w1') ?? [];
    const pick = ({ event, path, kind, count, exampleMessageId, exampleMessage }: (typeof w1)[number]) => ({
      event,
      path,
      kind,
      count,
      exampleMessageId,
      exampleMessage,
    });
    expect(w1.map(pick)).toEqual([
      {
        event: 'Order',
        path: 'properties/total',
        kind: 'must be number',
        count: 2,
        exampleMessageId: 'm2',
        exampleMessage: 'properties/total must be number',
      },
      {
        event: 'Order',
        path: 'properties/items/*',
        kind: 'must be number',
        count: 1,
        exampleMessageId: 'm2',
        exampleMessage: 'properties/items/1 must be number',
      },
      {
        event: 'Signup',
        path: 'properties/total',
        kind: 'must be number',
        count: 1,
        exampleMessageId: 'm3',
        exampleMessage: 'properties/total must be number',
      },
      {
        event: null,
        path: 'traits/email',
        kind: 'must match format "email"',
        count: 1,
        exampleMessageId: 'm5',
        exampleMessage: 'traits/email must match format "email"',
      },
    ]);
    expect(summaries.get('w2')?.map((s) => s.count)).toEqual([1]);
  });

  it('leaves out events without violations', () => {
    expect(summarize([track('m1', 'Order', [])]).size).toBe(0);
  });

  it('keys a kind by its fields alone: the same in every chunk, different for another event or type', () => {
    const kind = { eventType: 'track', event: 'Order', path: 'properties/total', kind: 'must be number' };
    expect(violationKey(kind)).toBe(violationKey({ ...kind }));
    expect(violationKey(kind)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(violationKey({ ...kind, event: 'Other' })).not.toBe(violationKey(kind));
    expect(violationKey({ ...kind, eventType: 'identify', event: null })).not.toBe(
      violationKey({ ...kind, eventType: 'identify', event: 'null' }),
    );
    expect(summarize([track('a', 'Order', ['properties/total must be number'])]).get('w1')?.[0]?.key).toBe(violationKey(kind));
  });

  it('counts the same whether a stream is summarized at once or chunk by chunk and combined', () => {
    const event = fc.record({
      messageId: fc.string({ maxLength: 3 }),
      event: fc.constantFrom('A', 'B'),
      violations: fc.array(
        fc.constantFrom('properties/x must be number', 'properties/y/0 must be string', 'properties/y/1 must be string'),
      ),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 20 }), fc.nat(20), (events, cut) => {
        const stream = events.map((e) => track(e.messageId, e.event, e.violations));
        const whole = summarize(stream).get('w1') ?? [];
        const parts = [stream.slice(0, cut), stream.slice(cut)].flatMap((chunk) => summarize(chunk).get('w1') ?? []);
        const counts = (list: typeof whole) => Object.fromEntries(list.map((s) => [s.key, s.count]));
        expect(counts(combine(parts))).toEqual(counts(whole));
        const total = whole.reduce((n, s) => n + s.count, 0);
        const expected = stream.reduce((n, e) => n + new Set(e.violations.map((v) => v.replace(/\/\d+ /, '/* '))).size, 0);
        expect(total).toBe(expected);
      }),
    );
  });
});
