import fc from 'fast-check';
import { boundedProperties, MAX_STORED_PROPERTIES_BYTES } from './history-limits';

const size = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

describe('boundedProperties', () => {
  it('keeps properties that fit whole, and cuts any others down to short top-level values within the bound', () => {
    const value = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.string({ maxLength: 300 }),
      fc.string({ minLength: 1_000, maxLength: 3_000 }),
      fc.array(fc.string({ maxLength: 200 }), { maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), value, { maxKeys: 60 }), (properties) => {
        const kept = boundedProperties(properties);
        expect(size(kept)).toBeLessThanOrEqual(MAX_STORED_PROPERTIES_BYTES);
        if (size(properties) <= MAX_STORED_PROPERTIES_BYTES) expect(kept).toBe(properties);
        else
          for (const [key, v] of Object.entries(kept)) {
            expect(properties[key]).toBe(v);
            expect(typeof v === 'object' && v !== null).toBe(false);
          }
      }),
    );
  });

  it('keeps the amounts of an order whose line items are too long to store', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ sku: `sku-${i}`, name: 'A rather long product name', price: 9.99 }));
    expect(boundedProperties({ orderId: 'o-1', total: 1997.99, currency: 'EUR', coupon: null, items })).toEqual({
      orderId: 'o-1',
      total: 1997.99,
      currency: 'EUR',
      coupon: null,
    });
  });
});
