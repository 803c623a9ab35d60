import fc from 'fast-check';
import { applyPii, hashedIdentifiers, hashValue, parsePiiRules, type EventFields, type PiiRule, type PiiSecrets } from './pii';
import { ENCRYPTED_PREFIX, keyIdOf, PiiCipher } from './pii-crypto';

const SALT = 'salt-1';
const NO_KEY: PiiSecrets = { salt: SALT, encrypt: null };
const cipher = new PiiCipher(Buffer.alloc(32, 7));
const WITH_KEY: PiiSecrets = { salt: SALT, encrypt: (v) => cipher.encrypt('ws_1', v) };
const fields = (): EventFields => ({
  traits: { email: 'jane@example.com', address: { street: 'Main St 1', city: 'Berlin' }, plan: 'pro' },
  properties: { card: { last4: '4242' }, total: 10 },
  context: { ip: '203.0.113.7', traits: { email: 'jane@example.com' } },
});

describe('applyPii', () => {
  it('hashes and drops the named fields, also in context.traits, and leaves the rest', () => {
    const rules: PiiRule[] = [
      { path: 'traits.email', action: 'hash' },
      { path: 'traits.address.street', action: 'drop' },
      { path: 'properties.card.last4', action: 'hash' },
      { path: 'context.ip', action: 'drop' },
      { path: 'traits.missing.deep', action: 'drop' },
    ];
    const input = fields();
    const out = applyPii(rules, NO_KEY, input);
    const email = hashValue(SALT, 'jane@example.com');
    expect(email).toMatch(/^[0-9a-f]{64}$/);
    expect(out).toEqual({
      traits: { email, address: { city: 'Berlin' }, plan: 'pro' },
      properties: { card: { last4: hashValue(SALT, '4242') }, total: 10 },
      context: { traits: { email } },
    });
    expect(input).toEqual(fields());
  });

  it('encrypts named fields so that only the same key and workspace read them back', () => {
    const out = applyPii(
      [
        { path: 'traits.email', action: 'encrypt' },
        { path: 'properties.card', action: 'encrypt' },
      ],
      WITH_KEY,
      fields(),
    );
    const email = out.traits['email'] as string;
    expect(email.startsWith(ENCRYPTED_PREFIX)).toBe(true);
    expect(JSON.stringify(out)).not.toContain('jane@example.com');
    expect(cipher.decrypt('ws_1', email)).toBe('jane@example.com');
    expect(cipher.decrypt('ws_1', (out.context['traits'] as Record<string, string>)['email'] as string)).toBe('jane@example.com');
    expect(cipher.decrypt('ws_1', out.properties['card'] as string)).toEqual({ last4: '4242' });
    expect(() => cipher.decrypt('ws_2', email)).toThrow();
    expect(() => new PiiCipher(Buffer.alloc(32, 8)).decrypt('ws_1', email)).toThrow();
  });

  it('drops a field to encrypt when no key is set up, never passing it on in the clear', () => {
    expect(applyPii([{ path: 'traits.email', action: 'encrypt' }], NO_KEY, fields()).traits).toEqual({
      address: { street: 'Main St 1', city: 'Berlin' },
      plan: 'pro',
    });
  });

  it('round-trips any JSON value, with a fresh ciphertext each time, and refuses an altered one', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ minLength: 1, maxLength: 20 }), fc.nat(), (value, ws, at) => {
        const token = cipher.encrypt(ws, value);
        expect(cipher.decrypt(ws, token)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(cipher.encrypt(ws, value)).not.toBe(token);
        const [keyId, payload] = token.slice(ENCRYPTED_PREFIX.length).split(':') as [string, string];
        expect(keyId).toBe(cipher.keyId);
        const bytes = Buffer.from(payload, 'base64url');
        bytes[at % bytes.length] ^= 1;
        expect(() => cipher.decrypt(ws, `${ENCRYPTED_PREFIX}${keyId}:${bytes.toString('base64url')}`)).toThrow();
      }),
    );
  });

  describe('key rotation', () => {
    const keyA = Buffer.alloc(32, 1);
    const keyB = Buffer.alloc(32, 2);
    const underA = new PiiCipher(keyA);
    const rotated = new PiiCipher(keyB, [keyA]);

    it('writes under the current key and still reads values of a previous one', () => {
      const old = underA.encrypt('ws_1', 'jane@example.com');
      const fresh = rotated.encrypt('ws_1', 'jane@example.com');
      expect(fresh.startsWith(`${ENCRYPTED_PREFIX}${keyIdOf(keyB)}:`)).toBe(true);
      expect(old.startsWith(`${ENCRYPTED_PREFIX}${keyIdOf(keyA)}:`)).toBe(true);
      expect(rotated.decrypt('ws_1', old)).toBe('jane@example.com');
      expect(rotated.decrypt('ws_1', fresh)).toBe('jane@example.com');
      // Once the previous key is retired, its values name the key that is missing.
      expect(() => new PiiCipher(keyB).decrypt('ws_1', old)).toThrow(`encrypted under key ${keyIdOf(keyA)}, which is not configured`);
      expect(() => underA.decrypt('ws_1', fresh)).toThrow(keyIdOf(keyB));
    });

    it('reads values written before key ids (enc:v1) with whichever configured key made them', () => {
      const v1 = (token: string) => `enc:v1:${token.split(':').at(-1) as string}`;
      expect(rotated.decrypt('ws_1', v1(underA.encrypt('ws_1', { last4: '4242' })))).toEqual({ last4: '4242' });
      expect(rotated.decrypt('ws_1', v1(rotated.encrypt('ws_1', 42)))).toBe(42);
      expect(() => new PiiCipher(keyB).decrypt('ws_1', v1(underA.encrypt('ws_1', 'x')))).toThrow('no configured PII key');
    });

    it('takes the keys from their base64 settings and refuses one that is not 32 bytes', () => {
      const b64 = (k: Buffer) => k.toString('base64');
      const configured = PiiCipher.fromBase64(b64(keyB), ` ${b64(keyA)} `);
      expect(configured?.decrypt('ws_1', underA.encrypt('ws_1', 'x'))).toBe('x');
      expect(PiiCipher.fromBase64('', b64(keyA))).toBeNull();
      expect(() => PiiCipher.fromBase64(b64(keyB), 'c2hvcnQ=')).toThrow('32 bytes');
    });
  });

  it('gives one value the same hash in a workspace and another in another workspace', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (value, s1, s2) => {
        expect(hashValue(s1, value)).toBe(hashValue(s1, value));
        if (s1 !== s2) expect(hashValue(s1, value)).not.toBe(hashValue(s2, value));
      }),
    );
  });

  const segment = fc.constantFrom('a', 'b', 'email', '__proto__', 'constructor');
  const json = fc.dictionary(segment, fc.jsonValue(), { maxKeys: 4 });
  const anyFields = fc.record({ traits: json, properties: json, context: json }) as fc.Arbitrary<EventFields>;

  it('never throws, never leaves a dropped field, never touches Object.prototype', () => {
    fc.assert(
      fc.property(
        anyFields,
        fc.array(
          fc.tuple(
            fc.constantFrom('traits', 'properties', 'context'),
            fc.array(segment, { minLength: 1, maxLength: 3 }),
            fc.constantFrom('hash', 'drop', 'encrypt'),
          ),
        ),
        (f, specs) => {
          const rules = specs.map(([root, path, action]) => ({ path: [root, ...path].join('.'), action }) as PiiRule);
          const out = applyPii(rules, NO_KEY, f);
          // Without a key, encrypt drops too.
          for (const rule of rules.filter((r) => r.action !== 'hash')) {
            const [root, ...path] = rule.path.split('.');
            let node: unknown = out[root as keyof EventFields];
            for (const s of path.slice(0, -1))
              node = node && typeof node === 'object' && Object.hasOwn(node, s) ? (node as Record<string, unknown>)[s] : undefined;
            if (node && typeof node === 'object') expect(Object.hasOwn(node, path[path.length - 1] as string)).toBe(false);
          }
          expect(typeof ({} as Record<string, unknown>)['toString']).toBe('function');
          expect(Object.keys(Object.prototype)).toEqual([]);
        },
      ),
    );
  });
});

describe('hashedIdentifiers', () => {
  it('answers what applyPii stores for an identifier whose field the policy hashes, and null for the others', () => {
    const rules: PiiRule[] = [
      { path: 'traits.email', action: 'hash' },
      { path: 'traits.phone', action: 'drop' },
    ];
    const stored = applyPii(rules, NO_KEY, fields()).traits['email'];
    expect(
      hashedIdentifiers(
        rules,
        SALT,
        [
          { type: 'email', value: ' Jane@Example.com ' },
          { type: 'phone', value: '+4915112345678' },
          { type: 'user_id', value: 'u-1' },
        ],
        'DE',
      ),
    ).toEqual([
      { type: 'email', value: 'jane@example.com', hashed: stored },
      { type: 'phone', value: '+4915112345678', hashed: null },
      { type: 'user_id', value: 'u-1', hashed: null },
    ]);
    expect(hashedIdentifiers(rules, '', [{ type: 'email', value: 'jane@example.com' }], 'DE')[0]?.hashed).toBeNull();
  });

  it('cleans a phone as events are (E.164 in the default region) before hashing it', () => {
    const rules: PiiRule[] = [{ path: 'traits.phone', action: 'hash' }];
    const [typed] = hashedIdentifiers(rules, SALT, [{ type: 'phone', value: '0151 12345678' }], 'DE');
    expect(typed).toEqual({ type: 'phone', value: '+4915112345678', hashed: hashValue(SALT, '+4915112345678') });
  });
});

describe('parsePiiRules: one rule per field', () => {
  it('refuses a second rule on the same path, naming both', () => {
    expect(
      parsePiiRules([
        { path: 'traits.email', action: 'hash' },
        { path: 'traits.phone', action: 'drop' },
        { path: 'traits.email', action: 'drop' },
      ]),
    ).toEqual({ ok: false, problem: 'pii[2].path traits.email has a rule already (pii[0]): one rule per field' });
  });
});

describe('parsePiiRules', () => {
  it('refuses context.traits paths, which would leave the copy in traits in the clear, naming the path that works', () => {
    expect(parsePiiRules([{ path: 'context.traits.email', action: 'hash' }])).toEqual({
      ok: false,
      problem: 'pii[0].path context.traits.email: write it as traits.email, which covers context.traits too',
    });
    expect(parsePiiRules([{ path: 'context.traits', action: 'drop' }])).toMatchObject({ ok: false });
    expect(parsePiiRules([{ path: 'context.traitsX', action: 'drop' }])).toMatchObject({ ok: true });
  });

  it('accepts paths under traits, properties and context', () => {
    expect(parsePiiRules([{ path: 'traits.address.street', action: 'drop' }])).toEqual({
      ok: true,
      value: [{ path: 'traits.address.street', action: 'drop' }],
    });
  });

  it.each([
    [{ path: 'userId', action: 'hash' }],
    [{ path: 'traits', action: 'hash' }],
    [{ path: 'traits.$where', action: 'hash' }],
    [{ path: 'traits.__proto__.x', action: 'drop' }],
    [{ path: 'traits..x', action: 'drop' }],
    [{ path: 'traits.email', action: 'encrypt-ish' }],
    [{ path: 'traits.email', action: 'hash', extra: true }],
  ])('refuses %j', (rule) => {
    expect(parsePiiRules([rule]).ok).toBe(false);
  });

  it('never throws', () => {
    fc.assert(fc.property(fc.anything(), (input) => void parsePiiRules(input)));
  });
});
