import fc from 'fast-check';
import type { PersonRecord } from './record';

// Shared fast-check arbitraries of the specs: messy but plausible person records.
const names = [
  'John',
  'Jon',
  'Bob',
  'Robert',
  'María',
  'maria',
  'Smith',
  'Smyth',
  "O'Brien",
  'Müller',
  'Mueller',
  'Lee',
  'J.',
  'Anne Marie',
];
const text = fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 }));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const date = fc
  .tuple(fc.integer({ min: 1900, max: 2020 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);

export const personRecord: fc.Arbitrary<PersonRecord> = fc.record({
  name: opt(fc.record({ first: opt(text), last: opt(text) })),
  birthday: opt(fc.oneof(date, fc.constantFrom('1980-03-04', '1980-04-03', '1980-03-05'))),
  address: opt(
    fc.record({
      street: opt(
        fc.oneof(
          fc.constantFrom('12 Main St', '12 Main Street', '14 Main Street', 'Hauptstr. 5', 'Calle Mayor 3'),
          fc.string({ maxLength: 20 }),
        ),
      ),
      city: opt(fc.constantFrom('Paris', 'PARIS', 'Berlin', 'München')),
      postalCode: opt(fc.constantFrom('75011', '75012', 'SW1A 1AA', 'sw1a1aa', '10115')),
      country: opt(fc.constantFrom('FR', 'GB', 'DE')),
    }),
  ),
  phone: opt(fc.constantFrom('+44 20 7946 0958', '020 7946 0958', '+14155552671', '(415) 555-2671', '+33612345678')),
  email: opt(fc.oneof(fc.emailAddress(), fc.constantFrom('jane@example.com', 'JANE@example.com', 'jane@gmail.com'))),
});
