import fc from 'fast-check';
import { compilePlan, PlanError, planViolations } from './tracking-plan';

const plan = compilePlan({
  mode: 'flag',
  events: {
    'Order Completed': {
      type: 'object',
      required: ['total'],
      properties: { total: { type: 'number', minimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    },
  },
  traits: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
});

const track = (event: string, properties: unknown) => ({ type: 'track', event, properties, traits: {} });

describe('tracking plans', () => {
  it('passes what respects the plan', () => {
    expect(planViolations(plan, track('Order Completed', { total: 12.5, currency: 'EUR' }))).toEqual([]);
    expect(planViolations(plan, { type: 'identify', event: null, properties: {}, traits: { email: 'a@b.co' } })).toEqual([]);
    expect(planViolations(plan, { type: 'page', event: null, properties: { total: 'x' }, traits: {} })).toEqual([]);
  });

  it('says what is wrong, for every error', () => {
    expect(planViolations(plan, track('Order Completed', { total: '12', currency: 'eur' }))).toEqual([
      'properties/total must be number',
      'properties/currency must match pattern "^[A-Z]{3}$"',
    ]);
    expect(planViolations(plan, track('Order Completed', {}))).toEqual(["properties must have required property 'total'"]);
    expect(planViolations(plan, { type: 'identify', event: null, properties: {}, traits: { email: 'nope' } })).toEqual([
      'traits/email must match format "email"',
    ]);
  });

  it('allows unplanned events unless told not to', () => {
    expect(planViolations(plan, track('Other', {}))).toEqual([]);
    const strict = compilePlan({ mode: 'block', events: {}, allowUnplannedEvents: false });
    expect(planViolations(strict, track('Other', {}))).toEqual(['event "Other" is not in the tracking plan']);
  });

  it('refuses a schema ajv cannot compile', () => {
    expect(() => compilePlan({ mode: 'flag', events: { E: { type: 'nonsense' } } })).toThrow(PlanError);
    expect(() => compilePlan({ mode: 'flag', events: { E: 'x' } })).toThrow('event "E": a schema must be a JSON object');
  });

  it('refuses a pattern that can backtrack badly, wherever the schema holds one, and not a value that looks like one', () => {
    const refused = (schema: object) => () => compilePlan({ mode: 'flag', events: { E: schema } });
    expect(refused({ properties: { a: { type: 'string', pattern: '^(a+)+$' } } })).toThrow(
      /event "E": the pattern at #\/properties\/a\/pattern .*\(at offset \d+\)/,
    );
    expect(refused({ items: [{ anyOf: [{ pattern: 'a*a*a*b' }] }] })).toThrow(PlanError);
    expect(refused({ patternProperties: { '^(x|xy)*$': {} } })).toThrow(/patternProperties/);
    expect(() => compilePlan({ mode: 'flag', events: {}, traits: { properties: { p: { pattern: '(a*)*' } } } })).toThrow(/^traits: /);
    expect(refused({ properties: { p: { const: { pattern: '(a+)+' } }, pattern: { type: 'string' } } })).not.toThrow();
  });

  it('does not match a string longer than the bound the pattern checks assume (a violation, not a long run)', () => {
    const bounded = compilePlan({ mode: 'flag', events: { E: { properties: { a: { type: 'string', pattern: '^a+$' } } } } });
    expect(planViolations(bounded, track('E', { a: 'a'.repeat(512) }))).toEqual([]);
    expect(planViolations(bounded, track('E', { a: 'a'.repeat(513) }))).toEqual(['properties/a must match pattern "^a+$"']);
  });

  it('never throws on any event and bounds the violations', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.jsonValue(), fc.jsonValue(), (type, event, properties, traits) => {
        const v = planViolations(plan, { type, event, properties, traits });
        expect(v.length).toBeLessThanOrEqual(20);
      }),
    );
  });
});
