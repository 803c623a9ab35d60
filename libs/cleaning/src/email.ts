/**
 * A pragmatic address check (RFC 5322 is broader; senders with stranger addresses keep them as
 * traits). Letters of any script are allowed, as internationalized addresses (RFC 6531) and
 * domains (IDN) have them: `zoë@example.com`, `用户@例子.广告`.
 */
const LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{M}\\p{N}-]{0,61}[\\p{L}\\p{M}\\p{N}])?';
const EMAIL = new RegExp(`^[\\p{L}\\p{M}\\p{N}.!#$%&'*+/=?^_\`{|}~-]+@${LABEL}(?:\\.${LABEL})+$`, 'u');

export interface CleanEmail {
  value: string;
  /** Only a valid email may be used as an identifier. */
  valid: boolean;
}

/** Trims, lower-cases and composes (NFC) an email and says whether it is a usable address. */
export function cleanEmail(raw: string): CleanEmail {
  const value = raw.trim().toLowerCase().normalize('NFC');
  return { value, valid: value.length <= 254 && EMAIL.test(value) };
}
