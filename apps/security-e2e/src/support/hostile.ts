import fc from 'fast-check';

/** Keys that attack prototypes or MongoDB queries when code trusts them. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '$where',
  '$gt',
  '$ne',
  '$set',
  '$expr',
  'a.b',
  '$.x',
  'profile.traits',
  '.',
  '',
] as const;

export const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 }));

/** A JSON value as text whose objects use hostile keys (built by hand: `__proto__` must stay an own key). */
export const hostileJsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v)),
    fc.constantFrom('{"$gt":""}', '{"$where":"sleep(5000)"}', '{"$ne":null}', '"$gt"'),
    tie('object'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
  ),
  object: fc
    .array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
})).object;

/** Deeply nested JSON: objects or arrays, far beyond any sane depth. */
export const deepJson = fc
  .record({ depth: fc.integer({ min: 200, max: 5_000 }), array: fc.boolean() })
  .map(({ depth, array }) => (array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** Text that is not JSON. */
export const malformedJson = fc.oneof(
  fc.constantFrom('{', '{"a":', '{"a":1,}', "{'a':1}", 'NaN', '{"a":1}{"b":2}', '[1,2', 'null', '"just a string"', '{"a":undefined}'),
  // Not what happens to parse: `{` + `}` is an empty object, which an endpoint may rightly accept.
  fc
    .string({ maxLength: 60 })
    .map((s) => `{${s}`)
    .filter((text) => !parsesAsJson(text)),
);

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Bytes that are not UTF-8 (lone continuation bytes, overlongs, surrogates), inside otherwise JSON-looking text. */
export const invalidUtf8 = fc
  .record({
    bad: fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]),
    at: fc.constantFrom('event', 'userId', 'trait'),
  })
  .map(({ bad, at }) => {
    const marker = 'XXBADXX';
    const text =
      at === 'event'
        ? `{"userId":"u1","event":"${marker}"}`
        : at === 'userId'
          ? `{"userId":"${marker}","event":"E","name":"n"}`
          : `{"userId":"u1","event":"E","traits":{"${marker}":1},"name":"n"}`;
    const [before, after] = text.split(marker) as [string, string];
    return Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]);
  });

/** A string or array over every documented limit (32 KB per event, 500 KB per request, 200-character names, 20 000-character definitions). */
export const oversized = fc.oneof(
  fc
    .oneof(fc.integer({ min: 40_000, max: 120_000 }), fc.constant(520_000))
    .map((n) => `{"userId":"u1","event":"E","name":"${'x'.repeat(n)}","definition":"${'y'.repeat(n)}"}`),
  fc
    .integer({ min: 5_000, max: 60_000 })
    .map(
      (n) =>
        `{"userId":"u1","event":"E","name":"n","scopes":[${Array(n).fill('"admin"').join(',')}],"properties":{"a":[${Array(n).fill(1).join(',')}]}}`,
    ),
);

/** Content types a client might get wrong. */
export const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'image/png',
  '',
);

/** Any of the above as a request body. */
export const hostileBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  hostileJsonText,
  deepJson,
  malformedJson,
  invalidUtf8,
  oversized,
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
);

/** Strings for path and query parameters: operators, dotted paths, prototype names, JSON, separators, junk. */
export const hostileParam = fc.oneof(
  fc.constantFrom(
    '$gt',
    '{"$gt":""}',
    '{"$ne":null}',
    '$where',
    'a.b',
    'traits.email',
    '__proto__',
    'constructor',
    'prototype',
    'email:{"$gt":""}',
    'email:$ne',
    'user_id:__proto__',
    'anonymous_id:a.b',
    'email:',
    ':',
    '..',
    '%00',
    '%E0%A4%A',
    '%',
    'x'.repeat(5_000),
  ),
  // Not empty: `/v1/segments/` is the list route, not a lookup of "".
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.tuple(fc.constantFrom('email', 'user_id', 'phone', 'p_'), fc.string({ maxLength: 20 })).map(([t, v]) => `${t}:${v}`),
);

/** A parameter put into a URL path segment: encoded, except a few raw percent sequences that must be refused as such. */
export const pathSegment = (p: string): string => (['%00', '%E0%A4%A', '%', '..'].includes(p) ? p : encodeURIComponent(p));
