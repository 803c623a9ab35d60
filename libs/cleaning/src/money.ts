import currencyCodes from 'currency-codes';

/** Property keys that carry an amount of money (Segment's e-commerce spec and common use). */
export const AMOUNT_KEYS = ['revenue', 'total', 'subtotal', 'price', 'value', 'tax', 'shipping', 'discount'] as const;

/** The ISO 4217 code (upper case) when the input is one, else the trimmed input. */
export function cleanCurrency(raw: string): string {
  const trimmed = raw.trim();
  const upper = trimmed.toUpperCase();
  return /^[A-Z]{3}$/.test(upper) && currencyCodes.code(upper) ? upper : trimmed;
}

/** `12.50`, ` 1,234.5 `, `-3` and `+7` (thousands separators only in groups of three). */
const AMOUNT = /^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$/;

/** A number from a numeric string ("12.50" -> 12.5); anything else is returned unchanged. */
export function cleanAmount(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const trimmed = raw.trim();
  if (!AMOUNT.test(trimmed)) return raw;
  const n = Number(trimmed.replace(/,/g, ''));
  return Number.isFinite(n) ? n : raw;
}
