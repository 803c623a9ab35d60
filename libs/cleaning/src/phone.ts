import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export interface CleanPhone {
  /** E.164 when valid, else the trimmed input. */
  value: string;
  /** Only a valid phone may be used as an identifier. */
  valid: boolean;
}

/** The default region when a workspace names none or an unsupported one. */
export const DEFAULT_REGION = 'US';

/** The region as libphonenumber-js knows it, or undefined (then only +-prefixed numbers parse). */
export function phoneRegion(region: string | undefined): CountryCode | undefined {
  const r = region?.trim().toUpperCase();
  return r && isSupportedCountry(r) ? r : undefined;
}

/**
 * A phone number in E.164 (`+14155552671`), read in the workspace's default region when it has
 * no country prefix. An invalid number is returned trimmed with valid=false.
 */
export function cleanPhone(raw: string | number, defaultRegion: string = DEFAULT_REGION): CleanPhone {
  const trimmed = String(raw).trim();
  // Longer strings are not phone numbers; parsing them would only cost time.
  if (trimmed.length === 0 || trimmed.length > 64) return { value: trimmed, valid: false };
  try {
    const parsed = parsePhoneNumberFromString(trimmed, phoneRegion(defaultRegion));
    if (parsed?.isValid()) return { value: parsed.number, valid: true };
  } catch {
    // The parser throws on some malformed input; that is simply an invalid number.
  }
  return { value: trimmed, valid: false };
}
