import 'reflect-metadata';
import { DtoValidationPipe } from '@cdp/platform';
import { dtoProblems } from '@cdp/testing';
import fc from 'fast-check';
import { SegmentBody } from './segment.dto';

const definition = "trait('country') = 'DE'";
const RULE = 'name must be a string of 1 to 200 characters, without control characters (tab, newline)';

describe('SegmentBody name', () => {
  it('is trimmed, so " VIP " and "VIP" are one name', async () => {
    const body = (await new DtoValidationPipe().transform(
      { name: '  Käufer 🛒  ', definition },
      { type: 'body', metatype: SegmentBody },
    )) as SegmentBody;
    expect(body.name).toBe('Käufer 🛒');
  });

  it.each([['   '], [''], ['tab\tname'], ['line\nbreak'], ['x'.repeat(201)], [42]])(
    'refuses %j, saying what a name must be',
    async (name) => {
      expect(await dtoProblems(SegmentBody, { name, definition })).toEqual([RULE]);
    },
  );

  it('takes any printable name of 1 to 200 characters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '' && !/\p{Cc}/u.test(s)),
        async (name) => expect(await dtoProblems(SegmentBody, { name, definition })).toEqual([]),
      ),
      { numRuns: 50 },
    );
  });
});
