import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The PII `encrypt` action: AES-256-GCM under a key of the workspace's own, derived from the
 * master key with HKDF-SHA-256 (salt: the workspace id), the workspace id as additional data, so
 * a value copied into another workspace does not decrypt. A value becomes
 * `enc:v2:<key id>:<base64url(iv 12 bytes | ciphertext | tag 16 bytes)>`; the plaintext is the
 * value's JSON, so numbers and objects come back as they were.
 *
 * Rotation: values are always written under the current master key; the key id (the first 8 hex
 * digits of the master key's SHA-256, which says nothing of the key) names the one that reads a
 * value back, so previous keys can stay configured for reading (CDP_PII_PREVIOUS_KEYS) for as long
 * as values written under them are kept. `enc:v1:` values (before key ids) are tried with each key.
 */
export const ENCRYPTED_PREFIX = 'enc:v2:';
const V1_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/** The id of a master key as it appears in its values: not secret, and stable. */
export const keyIdOf = (master: Buffer): string => createHash('sha256').update(master).digest('hex').slice(0, 8);

/** One master key and its per-workspace keys. */
class MasterKey {
  readonly id: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly master: Buffer) {
    if (master.length !== 32) throw new Error('a PII master key must be 32 bytes');
    this.id = keyIdOf(master);
  }

  of(workspaceId: string): Buffer {
    let key = this.keys.get(workspaceId);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.master, workspaceId, 'cdp-pii-v1', 32));
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(workspaceId, key);
    }
    return key;
  }
}

export class PiiCipher {
  private readonly current: MasterKey;
  /** The current key, then the previous ones, each by id. */
  private readonly readers: Map<string, MasterKey>;

  constructor(current: Buffer, previous: Buffer[] = []) {
    this.current = new MasterKey(current);
    this.readers = new Map([this.current, ...previous.map((p) => new MasterKey(p))].map((k) => [k.id, k]));
  }

  /** From CDP_PII_ENCRYPTION_KEY and CDP_PII_PREVIOUS_KEYS (comma-separated); null when the first is empty. */
  static fromBase64(key: string, previous = ''): PiiCipher | null {
    if (key === '') return null;
    const old = previous === '' ? [] : previous.split(',').map((k) => k.trim());
    for (const k of [key, ...old]) if (!BASE64_KEY.test(k)) throw new Error('a PII master key must be 32 bytes in base64');
    return new PiiCipher(
      Buffer.from(key, 'base64'),
      old.map((k) => Buffer.from(k, 'base64')),
    );
  }

  /** The id of the key new values are written under. */
  get keyId(): string {
    return this.current.id;
  }

  encrypt(workspaceId: string, value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.of(workspaceId), iv);
    cipher.setAAD(Buffer.from(workspaceId, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(value) ?? 'null', 'utf8'), cipher.final()]);
    return `${ENCRYPTED_PREFIX}${this.current.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The value back; throws when no configured key and workspace made the token, or it was altered. */
  decrypt(workspaceId: string, token: string): unknown {
    if (token.startsWith(V1_PREFIX)) {
      const bytes = payloadOf(token.slice(V1_PREFIX.length));
      for (const key of this.readers.values()) {
        try {
          return open(key.of(workspaceId), workspaceId, bytes);
        } catch {
          // Not this key (GCM authentication failed): try the next one.
        }
      }
      throw new Error('no configured PII key decrypts this value');
    }
    if (!token.startsWith(ENCRYPTED_PREFIX)) throw new Error(`an encrypted value starts with ${ENCRYPTED_PREFIX} (or ${V1_PREFIX})`);
    const rest = token.slice(ENCRYPTED_PREFIX.length);
    const colon = rest.indexOf(':');
    const key = this.readers.get(rest.slice(0, colon));
    if (colon < 0 || !key)
      throw new Error(`the value was encrypted under key ${colon < 0 ? '(none)' : rest.slice(0, colon)}, which is not configured`);
    return open(key.of(workspaceId), workspaceId, payloadOf(rest.slice(colon + 1)));
  }
}

function payloadOf(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('the encrypted value is too short');
  return bytes;
}

function open(key: Buffer, workspaceId: string, bytes: Buffer): unknown {
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(workspaceId, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as unknown;
}
