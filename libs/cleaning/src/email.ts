/** A pragmatic address check (RFC 5322 is broader; senders with stranger addresses keep them as traits). */
const EMAIL = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export interface CleanEmail {
  value: string;
  /** Only a valid email may be used as an identifier. */
  valid: boolean;
}

/** Trims and lower-cases an email and says whether it is a usable address. */
export function cleanEmail(raw: string): CleanEmail {
  const value = raw.trim().toLowerCase();
  return { value, valid: value.length <= 254 && EMAIL.test(value) };
}
