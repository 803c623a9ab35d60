import { COMPARATORS, COUNT_COMPARATORS, Limits, WINDOW_UNITS } from './ast';
import { PATTERN_FLAGS, PATTERN_LIMITS } from '@cdp/safe-regex';

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
const key = { type: 'string', minLength: 1, maxLength: Limits.maxKeyLength };
const scalar = { type: ['string', 'number', 'boolean', 'null'], maxLength: Limits.maxStringLength };
const string = { type: 'string', maxLength: Limits.maxStringLength };
const closed = (required: string[], properties: Record<string, unknown>) => ({
  type: 'object',
  required,
  additionalProperties: false,
  properties,
});
const valueRule = (cmp: string | string[], value: unknown) => ({
  properties: { cmp: Array.isArray(cmp) ? { enum: cmp } : { const: cmp }, value },
  required: ['value'],
  // Flags belong to `matches` only.
  ...(cmp === 'matches' ? {} : { not: { required: ['flags'] } }),
});
const flags = { enum: [...PATTERN_FLAGS] };
/** A `trait` or `computed` condition: a key and a comparison. */
const compared = (op: 'trait' | 'computed') => ({
  allOf: [closed(['op', 'key', 'cmp'], { op: { const: op }, key, cmp: { enum: [...COMPARATORS] }, value: {}, flags }), ref('comparison')],
});

/**
 * The JSON Schema (draft-07) of the definition AST, published at GET /v1/segments/schema.
 * `validateDefinition` accepts exactly what this schema accepts, plus four rules a schema cannot
 * state: `between.from` is longer ago than `between.to`, nesting is at most `Limits.maxDepth`
 * deep, a definition has at most `Limits.maxNodes` conditions, and a `matches` pattern is a valid
 * regular expression that cannot backtrack badly (@cdp/safe-regex) (property-tested).
 */
export const SEGMENT_DEFINITION_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://cdp.example/schemas/segment-definition.json',
  title: 'Segment definition',
  description: `A segment definition AST. Also enforced: between.from is longer ago than between.to; at most ${Limits.maxDepth} levels and ${Limits.maxNodes} conditions; a matches pattern is a valid regular expression with no back-references, lookbehind, repeated groups holding repeats or alternations, and a bounded number of repeats (tested on the first ${PATTERN_LIMITS.maxInput} characters of a value).`,
  ...ref('condition'),
  definitions: {
    condition: {
      oneOf: ['and', 'or', 'not', 'trait', 'computed', 'event', 'segment', 'consent'].map(ref),
    },
    and: closed(['op', 'of'], { op: { const: 'and' }, of: { type: 'array', minItems: 2, items: ref('condition') } }),
    or: closed(['op', 'of'], { op: { const: 'or' }, of: { type: 'array', minItems: 2, items: ref('condition') } }),
    not: closed(['op', 'of'], { op: { const: 'not' }, of: ref('condition') }),
    /** What `value` must be for each comparator (none for `exists`). */
    comparison: {
      oneOf: [
        { properties: { cmp: { const: 'exists' } }, not: { anyOf: [{ required: ['value'] }, { required: ['flags'] }] } },
        valueRule(['=', '!='], scalar),
        valueRule(['<', '<=', '>', '>='], { type: ['string', 'number'], maxLength: Limits.maxStringLength }),
        valueRule('in', { type: 'array', maxItems: Limits.maxListLength, items: scalar }),
        valueRule('contains', { type: ['string', 'number', 'boolean'], maxLength: Limits.maxStringLength }),
        valueRule('starts_with', string),
        valueRule('matches', { type: 'string', minLength: 1, maxLength: PATTERN_LIMITS.maxLength }),
      ],
    },
    trait: compared('trait'),
    /** A computed trait: the same comparisons as a trait. */
    computed: compared('computed'),
    filter: {
      allOf: [closed(['key', 'cmp'], { key, cmp: { enum: [...COMPARATORS] }, value: {}, flags }), ref('comparison')],
    },
    duration: closed(['amount', 'unit'], {
      amount: { type: 'integer', minimum: 1, maximum: Limits.maxCount },
      unit: { enum: [...WINDOW_UNITS] },
    }),
    event: {
      ...closed(['op', 'name', 'count'], {
        op: { const: 'event' },
        name: key,
        where: { type: 'array', minItems: 1, maxItems: Limits.maxFilters, items: ref('filter') },
        within: ref('duration'),
        between: closed(['from', 'to'], { from: ref('duration'), to: ref('duration') }),
        count: closed(['cmp', 'value'], {
          cmp: { enum: [...COUNT_COMPARATORS] },
          value: { type: 'integer', minimum: 0, maximum: Limits.maxCount },
        }),
      }),
      not: { required: ['within', 'between'] },
    },
    segment: closed(['op', 'segment'], { op: { const: 'segment' }, segment: key }),
    consent: closed(['op', 'category'], { op: { const: 'consent' }, category: key }),
  },
} as const;
