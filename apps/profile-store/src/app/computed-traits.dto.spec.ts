import 'reflect-metadata';
import { DtoValidationPipe } from '@cdp/platform';
import { dtoProblems } from '@cdp/testing';
import { ComputedTraitBody } from './computed-traits.dto';

const problems = (body: unknown) => dtoProblems(ComputedTraitBody, body);

describe('ComputedTraitBody', () => {
  it('accepts properties as the normalizer stores them, and count without a property', async () => {
    expect(await problems({ event: 'Order Completed', aggregation: 'sum', property: 'total' })).toEqual([]);
    expect(await problems({ event: 'E', aggregation: 'last', property: '_a_b' })).toEqual([]);
    expect(await problems({ event: 'E', aggregation: 'count' })).toEqual([]);
    // What GET answers for a count, put back as it is.
    expect(await problems({ event: 'E', aggregation: 'count', property: null, windowDays: 7 })).toEqual([]);
  });

  it.each([
    ['a.b', '"a_b"'],
    ['$total', '"_total"'],
    ['__proto__', '"___proto__"'],
  ])('refuses the property %s, which the normalizer rewrites, naming the stored form', async (property, stored) => {
    const messages = await problems({ event: 'E', aggregation: 'sum', property });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^property must be a property name as stored: no '\.', not starting with '\$'/);
    expect(messages[0]).toContain(`as ${stored}`);
  });

  it('trims the event name as the normalizer trims event names, and refuses a blank one', async () => {
    const body = (await new DtoValidationPipe().transform(
      { event: ' Order Completed ', aggregation: 'count' },
      { type: 'body', metatype: ComputedTraitBody },
    )) as ComputedTraitBody;
    expect(body.event).toBe('Order Completed');
    expect(await problems({ event: '   ', aggregation: 'count' })).toEqual(['event must not be empty']);
  });

  it('refuses a property with count, which counts events whatever their properties', async () => {
    expect(await problems({ event: 'E', aggregation: 'count', property: 'total' })).toEqual([
      'count takes no property: it counts every event named by event',
    ]);
  });

  it('still requires a property for the other aggregations', async () => {
    expect(await problems({ event: 'E', aggregation: 'sum' })).toContain(
      'property must name a top-level event property (a string); only count takes none',
    );
    expect(await problems({ event: 'E', aggregation: 'max', property: '' })).toEqual(['property must not be empty']);
    expect(await problems({ event: 'E', aggregation: 'max', property: 5 })).toEqual([
      'property must name a top-level event property (a string); only count takes none',
    ]);
  });
});
