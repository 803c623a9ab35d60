import fc from 'fast-check';
import { planViolations } from '@cdp/cleaning';
import { parseEntry, parsePlanOptions, planView, withEvent, withoutEvent, workspacePlan, type PlanFields } from './tracking-plan-doc';

const ORDER = JSON.stringify({ type: 'object', required: ['total'], properties: { total: { type: 'number' } } });
const track = (event: string, properties: unknown) => ({ type: 'track', event, properties, traits: {} });

describe('workspacePlan', () => {
  const doc: PlanFields = {
    mode: 'flag',
    events: [
      { name: 'Order Completed', schema: ORDER, mode: 'block' },
      { name: 'Signed Up', schema: '{"type":"object"}' },
    ],
    traits: '{"type":"object","properties":{"email":{"type":"string","format":"email"}}}',
    traitsMode: 'allow',
    allowUnplannedEvents: false,
  };

  it('gives each event its own mode, else the plan mode; identify the traits mode; other calls allow', () => {
    const plan = workspacePlan(doc);
    expect(plan.modeOf({ type: 'track', event: 'Order Completed' })).toBe('block');
    expect(plan.modeOf({ type: 'track', event: 'Signed Up' })).toBe('flag');
    expect(plan.modeOf({ type: 'track', event: 'Unplanned' })).toBe('flag');
    expect(plan.modeOf({ type: 'identify', event: null })).toBe('allow');
    expect(plan.modeOf({ type: 'page', event: null })).toBe('allow');
    expect(workspacePlan({ mode: 'block' }).modeOf({ type: 'identify', event: null })).toBe('allow');
  });

  it('compiles the schemas', () => {
    const plan = workspacePlan(doc);
    expect(planViolations(plan.compiled, track('Order Completed', {}))).toEqual(["properties must have required property 'total'"]);
    expect(planViolations(plan.compiled, track('Unplanned', {}))).toEqual(['event "Unplanned" is not in the tracking plan']);
  });
});

describe('parseEntry', () => {
  it('accepts a schema ajv compiles, with a mode of its own only when one is given', () => {
    expect(parseEntry('E', { schema: JSON.parse(ORDER) })).toEqual({ ok: true, value: { schema: ORDER } });
    expect(parseEntry('E', { schema: {}, mode: 'block' })).toEqual({ ok: true, value: { schema: '{}', mode: 'block' } });
  });

  it("leaves an event without a mode of its own to the plan's mode, also after that changes", () => {
    const parsed = parseEntry('E', { schema: JSON.parse(ORDER) });
    if (!parsed.ok) throw new Error(parsed.problem);
    const doc = withEvent({ mode: 'flag', events: [] }, 'E', parsed.value);
    expect(workspacePlan(doc).modeOf({ type: 'track', event: 'E' })).toBe('flag');
    const blocking = { ...doc, mode: 'block' as const };
    expect(workspacePlan(blocking).modeOf({ type: 'track', event: 'E' })).toBe('block');
    expect(planView(blocking).events[0]?.mode).toBe('block');
  });

  it.each([
    [{ schema: { type: 'nonsense' } }, 'invalid JSON Schema: event "E": schema is invalid'],
    [{ schema: { properties: { a: { minLength: -1 } } } }, 'invalid JSON Schema'],
    [{ schema: { $ref: '#/definitions/missing' } }, "can't resolve reference"],
    [{ schema: 'x' }, 'JSON Schema object'],
    [{ schema: {}, mode: 'reject' }, 'mode must be one of'],
    [{ schema: {}, extra: 1 }, '"extra"'],
    [[], 'JSON object'],
  ])('refuses %j naming the problem', (body, problem) => {
    const parsed = parseEntry('E', body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  it('never throws on any body', () => {
    fc.assert(fc.property(fc.anything(), fc.string(), (body, name) => void parseEntry(name, body)));
    fc.assert(fc.property(fc.jsonValue(), (schema) => void parseEntry('E', { schema })));
  });
});

describe('plan changes', () => {
  it('adds, replaces and removes events; the view lists them by name', () => {
    let doc = withEvent(null, 'B', { schema: '{}', mode: 'block' });
    doc = withEvent(doc, 'A', { schema: ORDER, mode: 'flag' });
    doc = withEvent(doc, 'B', { schema: '{"type":"object"}', mode: 'allow' });
    expect(planView(doc)).toEqual({
      mode: 'flag',
      allowUnplannedEvents: true,
      events: [
        { name: 'A', mode: 'flag', schema: JSON.parse(ORDER) },
        { name: 'B', mode: 'allow', schema: { type: 'object' } },
      ],
      traits: null,
    });
    expect(planView(withoutEvent(doc, 'A')).events.map((e) => e.name)).toEqual(['B']);
    expect(planView(null)).toEqual({ mode: 'flag', allowUnplannedEvents: true, events: [], traits: null });
  });

  it('keeps one entry per name whatever the order of changes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean())), (ops) => {
        let doc: PlanFields | null = null;
        for (const [name, add] of ops) doc = add ? withEvent(doc, name, { schema: '{}', mode: 'flag' }) : doc && withoutEvent(doc, name);
        const names = (doc?.events ?? []).map((e) => e.name);
        expect(new Set(names).size).toBe(names.length);
      }),
    );
  });

  it('parses the plan options with defaults', () => {
    expect(parsePlanOptions({})).toEqual({ ok: true, value: { mode: 'flag', allowUnplannedEvents: true } });
    expect(parsePlanOptions({ mode: 'block', allowUnplannedEvents: false })).toEqual({
      ok: true,
      value: { mode: 'block', allowUnplannedEvents: false },
    });
    expect(parsePlanOptions({ allowUnplannedEvents: 'no' }).ok).toBe(false);
  });
});
