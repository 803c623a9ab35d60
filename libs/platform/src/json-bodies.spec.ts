import fc from 'fast-check';
import { bodyErrorAnswer, isUtf8 } from './json-bodies';

describe('bodyErrorAnswer', () => {
  it('names the limit for an oversized body', () => {
    expect(bodyErrorAnswer({ type: 'entity.too.large', status: 413 }, 1024)).toEqual({
      statusCode: 413,
      message: 'request body is over the 1024 byte limit',
      error: 'Payload Too Large',
    });
  });

  it('answers 415 for an encoding or charset it cannot read, 400 for malformed JSON', () => {
    expect(bodyErrorAnswer({ type: 'encoding.unsupported', status: 415 }, 1)?.statusCode).toBe(415);
    expect(bodyErrorAnswer({ type: 'charset.unsupported', status: 415 }, 1)?.statusCode).toBe(415);
    expect(bodyErrorAnswer({ type: 'entity.parse.failed', status: 400, message: 'Unexpected token' }, 1)).toMatchObject({
      statusCode: 400,
      message: 'malformed JSON: Unexpected token',
    });
  });

  it('says the body must be an object when the strict parser refused JSON of another kind', () => {
    for (const [body, kind] of [
      ['null', 'null'],
      [' 42', 'a number'],
      ['"x"', 'a string'],
      ['true', 'a boolean'],
    ])
      expect(bodyErrorAnswer({ type: 'entity.parse.failed', status: 400, message: 'Unexpected token', body }, 1)?.message).toBe(
        `the body must be a JSON object, not ${kind}`,
      );
    expect(bodyErrorAnswer({ type: 'entity.parse.failed', status: 400, message: 'Unexpected end', body: '{"a":' }, 1)?.message).toBe(
      'malformed JSON: Unexpected end',
    );
  });

  it('answers any other client error with its own 4xx and leaves everything else to the next handler', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.integer({ min: 100, max: 599 })), (type, status) => {
        fc.pre(!['entity.too.large', 'encoding.unsupported', 'charset.unsupported', 'entity.parse.failed'].includes(type ?? ''));
        const answer = bodyErrorAnswer({ type: type ?? undefined, status: status ?? undefined }, 1);
        if (status !== null && status >= 400 && status < 500) expect(answer?.statusCode).toBe(status);
        else expect(answer).toBeUndefined();
      }),
    );
  });
});

describe('isUtf8', () => {
  it('takes UTF-8 or no charset, refuses every other one (UTF-16 included)', () => {
    for (const t of [undefined, 'application/json', 'application/json; charset=utf-8', 'application/json;charset="UTF8"'])
      expect(isUtf8(t)).toBe(true);
    for (const t of ['application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; Charset=UTF-16LE'])
      expect(isUtf8(t)).toBe(false);
  });
});
