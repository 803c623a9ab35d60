import fc from 'fast-check';
import { basicAuthUser, bearerToken, grants, hashKey, isScope, KEY_ID_LENGTH, keyIdOf, keyRefusal, newKey } from './keys';

describe('keys', () => {
  it('hashes deterministically and never returns the key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), (key) => {
        expect(hashKey(key)).toBe(hashKey(key));
        expect(hashKey(key)).not.toContain(key);
        expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
      }),
    );
  });

  it('makes distinct keys with a kind prefix', () => {
    const a = newKey('write');
    expect(a.startsWith('wk_')).toBe(true);
    expect(newKey('api').startsWith('ak_')).toBe(true);
    expect(newKey('write')).not.toBe(a);
  });

  it('reads the write key from Basic auth as Segment SDKs send it', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !s.includes(':')),
        (key) => {
          expect(basicAuthUser(`Basic ${Buffer.from(`${key}:`).toString('base64')}`)).toBe(key);
        },
      ),
    );
    expect(basicAuthUser(undefined)).toBeNull();
    expect(basicAuthUser('Bearer x')).toBeNull();
    expect(basicAuthUser(`Basic ${Buffer.from(':').toString('base64')}`)).toBeNull();
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
  });

  it('admin grants every scope, others only their own', () => {
    expect(grants(['admin'], 'write:segments')).toBe(true);
    expect(grants(['read:profiles'], 'read:profiles')).toBe(true);
    expect(grants(['read:profiles'], 'write:segments')).toBe(false);
  });
});

describe('key ids', () => {
  it('names a key by a short prefix of its hash, never by the key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), (key) => {
        const id = keyIdOf(hashKey(key));
        expect(id).toHaveLength(KEY_ID_LENGTH);
        expect(hashKey(key).startsWith(id)).toBe(true);
        expect(id).toMatch(/^[0-9a-f]+$/);
      }),
    );
  });

  it('knows the scopes', () => {
    expect(isScope('admin')).toBe(true);
    expect(isScope('read:profiles')).toBe(true);
    expect(isScope('root')).toBe(false);
    expect(isScope(1)).toBe(false);
  });
});

describe('keyRefusal', () => {
  it('names the kind a generated key is when it is sent where the other kind goes', () => {
    expect(keyRefusal(newKey('api'), 'write')).toMatch(/^this is an API key \(ak_\.\.\.\): send a write key/);
    expect(keyRefusal(newKey('write'), 'api')).toMatch(/^this is a write key \(wk_\.\.\.\): send an API key/);
    expect(keyRefusal(newKey('write'), 'write')).toBe('write key is not valid');
    expect(keyRefusal('dev-api-key', 'api')).toBe('API key is not valid');
  });
});
