import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The PII `encrypt` action: AES-256-GCM under a key of the workspace's own, derived from the
 * master key with HKDF-SHA-256 (salt: the workspace id), the workspace id as additional data, so
 * a value copied into another workspace does not decrypt. A value becomes
 * `enc:v1:<base64url(iv 12 bytes | ciphertext | tag 16 bytes)>`; the plaintext is the value's
 * JSON, so numbers and objects come back as they were.
 */
export const ENCRYPTED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PiiCipher {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly master: Buffer) {
    if (master.length !== 32) throw new Error('the PII master key must be 32 bytes');
  }

  /** From CDP_PII_ENCRYPTION_KEY; null when it is empty. */
  static fromBase64(key: string): PiiCipher | null {
    return key === '' ? null : new PiiCipher(Buffer.from(key, 'base64'));
  }

  encrypt(workspaceId: string, value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyOf(workspaceId), iv);
    cipher.setAAD(Buffer.from(workspaceId, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(value) ?? 'null', 'utf8'), cipher.final()]);
    return `${ENCRYPTED_PREFIX}${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The value back; throws when the token is not one of this key and workspace, or was altered. */
  decrypt(workspaceId: string, token: string): unknown {
    if (!token.startsWith(ENCRYPTED_PREFIX)) throw new Error(`an encrypted value starts with ${ENCRYPTED_PREFIX}`);
    const bytes = Buffer.from(token.slice(ENCRYPTED_PREFIX.length), 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('the encrypted value is too short');
    const decipher = createDecipheriv('aes-256-gcm', this.keyOf(workspaceId), bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(workspaceId, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  }

  private keyOf(workspaceId: string): Buffer {
    let key = this.keys.get(workspaceId);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.master, workspaceId, 'cdp-pii-v1', 32));
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(workspaceId, key);
    }
    return key;
  }
}
