import fc from 'fast-check';
import { grantedCategories, hasConsent, parseConsentRules, requiredCategories, type ConsentRule } from './consent';

const rules: ConsentRule[] = [
  { event: '*', categories: ['analytics'] },
  { event: 'Order Completed', categories: ['marketing', 'analytics'] },
];
const consent = (prefs: Record<string, unknown>) => ({ consent: { categoryPreferences: prefs } });

describe('consent', () => {
  it('requires the categories of "*" for every event and those of a track event by name', () => {
    expect(requiredCategories(rules, { type: 'page', event: null })).toEqual(['analytics']);
    expect(requiredCategories(rules, { type: 'track', event: 'Order Completed' })).toEqual(['analytics', 'marketing']);
    expect(requiredCategories([{ event: 'Order Completed', categories: ['x'] }], { type: 'identify', event: null })).toEqual([]);
  });

  it('passes an event only when every required category is granted with true', () => {
    const order = { type: 'track', event: 'Order Completed' };
    expect(hasConsent(rules, order, consent({ analytics: true, marketing: true }))).toBe(true);
    expect(hasConsent(rules, order, consent({ analytics: true, marketing: false }))).toBe(false);
    expect(hasConsent(rules, order, consent({ analytics: true, marketing: 'true' }))).toBe(false);
    expect(hasConsent(rules, order, {})).toBe(false);
    expect(hasConsent([], order, {})).toBe(true);
  });

  const category = fc.constantFrom('a', 'b', 'c', 'd');
  const rule = fc.record({ event: fc.constantFrom('*', 'E', 'F'), categories: fc.uniqueArray(category, { minLength: 1 }) });
  const event = fc.record({ type: fc.constantFrom('track', 'identify', 'page'), event: fc.constantFrom('E', 'F', null) });
  const prefs = fc.dictionary(category, fc.oneof(fc.boolean(), fc.anything()));

  it('agrees with its definition: pass iff required is a subset of granted', () => {
    fc.assert(
      fc.property(fc.array(rule), event, prefs, (rs, e, p) => {
        const granted = grantedCategories(consent(p));
        expect(hasConsent(rs, e, consent(p))).toBe(requiredCategories(rs, e).every((c) => granted.has(c)));
      }),
    );
  });

  it('is monotonic: another rule never lets through an event that was dropped', () => {
    fc.assert(
      fc.property(fc.array(rule), rule, event, prefs, (rs, extra, e, p) => {
        if (!hasConsent(rs, e, consent(p))) expect(hasConsent([...rs, extra], e, consent(p))).toBe(false);
      }),
    );
  });

  it('never throws on any context', () => {
    fc.assert(fc.property(fc.anything(), (context) => void hasConsent(rules, { type: 'track', event: 'E' }, context)));
  });

  it('parses rules and names the first problem', () => {
    expect(parseConsentRules([{ event: '*', categories: ['analytics', 'analytics'] }])).toEqual({
      ok: true,
      value: [{ event: '*', categories: ['analytics'] }],
    });
    for (const bad of [
      {},
      [{ event: '', categories: ['a'] }],
      [{ event: 'E', categories: [] }],
      [{ event: '*', categories: ['a.b'] }],
      [{ event: 'E', categories: ['a'], x: 1 }],
    ]) {
      expect(parseConsentRules(bad).ok).toBe(false);
    }
    fc.assert(fc.property(fc.anything(), (input) => void parseConsentRules(input)));
  });
});
