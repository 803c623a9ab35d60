import fc from 'fast-check';
import {
  candidateValues,
  decodeSearchCursor,
  encodeSearchCursor,
  MAX_SEARCH_PAGE,
  parseProfileSearch,
  type ProfileSearch,
} from './profile-search';
import { normalizeRegulationIdentifiers } from './regulation-identifiers';
import { retentionPlan } from './timeline-sweeper';

describe('parseProfileSearch', () => {
  it('reads trait conditions, limit and cursor', () => {
    const cursor = encodeSearchCursor('p-9');
    expect(parseProfileSearch({ 'trait.plan': 'pro', 'trait.age': '42', limit: '10', cursor })).toEqual({
      conditions: [
        { fields: [{ key: 'plan', path: [] }], values: ['pro'] },
        { fields: [{ key: 'age', path: [] }], values: ['42', 42] },
      ],
      limit: 10,
      after: 'p-9',
    });
  });

  it('makes trait names safe like the normalizer (no leading "$"), and reads a dotted name as a path into an object trait', () => {
    const fieldsOf = (query: Record<string, string>) => (parseProfileSearch(query) as ProfileSearch).conditions[0]?.fields;
    expect(fieldsOf({ 'trait.address.city': 'Berlin' })).toEqual([{ key: 'address', path: ['city'] }]);
    expect(fieldsOf({ 'trait.$where': 'x' })).toEqual([{ key: '_where', path: [] }]);
    expect(fieldsOf({ 'trait.a.$b': 'x' })).toEqual([{ key: 'a', path: ['_b'] }]);
  });

  it('finds a trait sent under an alias where the normalizer filed it, and an email as it was cleaned', () => {
    expect(parseProfileSearch({ 'trait.first_name': 'Ann', 'trait.zip': '20095', 'trait.E-Mail': ' Ann@X.io' })).toMatchObject({
      conditions: [
        {
          fields: [
            { key: 'first_name', path: [] },
            { key: 'firstName', path: [] },
          ],
          values: ['Ann'],
        },
        {
          fields: [
            { key: 'zip', path: [] },
            { key: 'address', path: ['postalCode'] },
          ],
          values: ['20095', 20095],
        },
        {
          fields: [
            { key: 'E-Mail', path: [] },
            { key: 'email', path: [] },
          ],
          values: [' Ann@X.io', 'ann@x.io'],
        },
      ],
    });
    expect(parseProfileSearch({ 'trait.mobile': '+49 151 2345 6789' })).toMatchObject({
      conditions: [
        {
          fields: [
            { key: 'mobile', path: [] },
            { key: 'phone', path: [] },
          ],
          values: ['+49 151 2345 6789', '+4915123456789'],
        },
      ],
    });
    // Reserved names and dotted paths are searched as given.
    expect(parseProfileSearch({ 'trait.firstName': 'Ann', 'trait.address.zip': '1' })).toMatchObject({
      conditions: [{ fields: [{ key: 'firstName', path: [] }] }, { fields: [{ key: 'address', path: ['zip'] }] }],
    });
  });

  it.each([
    [{}, /at least one trait/],
    [{ limit: '5' }, /at least one trait/],
    [{ 'trait.a': 'x', limit: '0' }, /limit/],
    [{ 'trait.a': 'x', limit: String(MAX_SEARCH_PAGE + 1) }, /limit/],
    [{ 'trait.a': 'x', limit: '2.5' }, /limit/],
    [{ 'trait.a': 'x', cursor: '!!' }, /cursor/],
    [{ 'trait.a': ['x', 'y'] }, /once/],
    [{ 'trait.': 'x' }, /unknown parameter/],
    [{ 'trait.address.': 'x' }, /empty part/],
    [{ 'trait..city': 'x' }, /empty part/],
    [{ 'trait.a': 'x', sort: 'name' }, /unknown parameter/],
    [Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`trait.t${i}`, 'x'])), /at most 10/],
  ])('refuses %j', (query, message) => {
    expect(parseProfileSearch(query as Record<string, unknown>)).toMatch(message);
  });

  it('never throws, whatever the query', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))), (query) => {
        const result = parseProfileSearch(query);
        expect(typeof result === 'string' || result.conditions.length > 0).toBe(true);
      }),
    );
  });
});

describe('candidateValues', () => {
  it('always includes the text itself, and the number a numeric text reads as', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(candidateValues(text)[0]).toBe(text);
      }),
    );
    fc.assert(
      fc.property(fc.integer(), (n) => {
        expect(candidateValues(String(n))).toEqual([String(n), n]);
      }),
    );
    expect(candidateValues('true')).toEqual(['true', true]);
    expect(candidateValues('null')).toEqual(['null', null]);
    expect(candidateValues('0x10')).toEqual(['0x10']);
    expect(candidateValues(' ')).toEqual([' ']);
  });
});

describe('search cursor', () => {
  it('round-trips any profile id and refuses anything it did not make', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), (id) => expect(decodeSearchCursor(encodeSearchCursor(id))).toBe(id)),
    );
    expect(decodeSearchCursor('')).toBeNull();
    expect(decodeSearchCursor('a b')).toBeNull();
  });
});

describe('normalizeRegulationIdentifiers', () => {
  it('trims, lower-cases emails only, drops empty values and duplicates', () => {
    expect(
      normalizeRegulationIdentifiers([
        { type: 'email', value: ' Jane@Example.COM ' },
        { type: 'email', value: 'jane@example.com' },
        { type: 'user_id', value: 'AbC' },
        { type: 'user_id', value: '   ' },
      ]),
    ).toEqual([
      { type: 'email', value: 'jane@example.com', idKey: 'email:jane@example.com' },
      { type: 'user_id', value: 'AbC', idKey: 'user_id:AbC' },
    ]);
  });

  it('reads phones as the normalizer stores them: valid ones in E.164, others as given', () => {
    expect(
      normalizeRegulationIdentifiers([
        { type: 'phone', value: '+49 151 2345 6789' },
        { type: 'phone', value: '+4915123456789' },
        { type: 'phone', value: '(415) 555-2671' },
        { type: 'phone', value: ' 12 ' },
      ]).map((i) => i.value),
    ).toEqual(['+4915123456789', '+14155552671', '12']);
  });

  it('is idempotent and never yields two equal keys', () => {
    const identifier = fc.record({ type: fc.constantFrom('email', 'user_id', 'phone'), value: fc.string() });
    fc.assert(
      fc.property(fc.array(identifier), (ids) => {
        const once = normalizeRegulationIdentifiers(ids);
        expect(new Set(once.map((i) => i.idKey)).size).toBe(once.length);
        expect(normalizeRegulationIdentifiers(once)).toEqual(once);
      }),
    );
  });
});

describe('retentionPlan', () => {
  it('gives each overriding workspace its own days and the rest the default', () => {
    expect(
      retentionPlan(30, [
        { workspaceId: 'a', timelineRetentionDays: 7 },
        { workspaceId: 'b', timelineRetentionDays: 0 },
      ]),
    ).toEqual([
      { workspaceId: 'a', days: 7, except: [] },
      { workspaceId: null, days: 30, except: ['a', 'b'] },
    ]);
  });

  it('sweeps nothing with a default of 0 and no overrides, and never a workspace set to keep forever', () => {
    expect(retentionPlan(0, [])).toEqual([]);
    fc.assert(
      fc.property(
        fc.nat(100),
        fc.uniqueArray(fc.record({ workspaceId: fc.string(), timelineRetentionDays: fc.nat(100) }), { selector: (o) => o.workspaceId }),
        (days, overrides) => {
          const plan = retentionPlan(days, overrides);
          for (const o of overrides.filter((x) => x.timelineRetentionDays === 0)) {
            expect(plan.some((s) => s.workspaceId === o.workspaceId)).toBe(false);
            for (const s of plan.filter((x) => x.workspaceId === null)) expect(s.except).toContain(o.workspaceId);
          }
          expect(plan.every((s) => s.days > 0)).toBe(true);
        },
      ),
    );
  });
});
