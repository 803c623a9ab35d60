import { BadRequestException } from '@nestjs/common';
import fc from 'fast-check';
import { parseJsonBody } from './body';

const message = (body: unknown): string => {
  try {
    parseJsonBody(body);
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestException);
    return (e as BadRequestException).message;
  }
  throw new Error('expected a 400');
};

describe('parseJsonBody', () => {
  it('reads any JSON value, with or without a UTF-8 byte order mark', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, bom) => {
        const json = JSON.stringify(value);
        expect(parseJsonBody(Buffer.from(`${bom ? '\uFEFF' : ''}${json}`, 'utf8'))).toEqual(JSON.parse(json));
      }),
    );
  });

  it('keeps a U+FFFD the sender wrote, but refuses bytes that are not UTF-8', () => {
    expect(parseJsonBody(Buffer.from('{"name":"\uFFFD"}', 'utf8'))).toEqual({ name: '\uFFFD' });
    expect(message(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toBe('request body is not valid UTF-8');
  });

  it('says what is wrong with an empty or malformed body', () => {
    expect(message(Buffer.alloc(0))).toBe('request body is empty; send a JSON object');
    expect(message(Buffer.from('{"a":'))).toMatch(/^request body is not valid JSON: /);
  });
});
