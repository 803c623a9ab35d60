import currencyCodes from 'currency-codes';

/** Property keys that carry an amount of money (Segment's e-commerce spec and common use). */
export const AMOUNT_KEYS = ['revenue', 'total', 'subtotal', 'price', 'value', 'tax', 'shipping', 'discount'] as const;

/**
 * Symbols that name one currency. A bare `$`, `¥` or `kr` names several (USD, CAD, AUD...; JPY,
 * CNY; SEK, NOK, DKK) and is left as given: guessing would file revenue under the wrong currency.
 */
const SYMBOLS: Record<string, string> = {
  '€': 'EUR',
  '£': 'GBP',
  '₹': 'INR',
  '₩': 'KRW',
  '₽': 'RUB',
  '₺': 'TRY',
  '₴': 'UAH',
  '₪': 'ILS',
  '₫': 'VND',
  '₱': 'PHP',
  '฿': 'THB',
  '₦': 'NGN',
  US$: 'USD',
  C$: 'CAD',
  CA$: 'CAD',
  A$: 'AUD',
  AU$: 'AUD',
  NZ$: 'NZD',
  HK$: 'HKD',
  S$: 'SGD',
  MX$: 'MXN',
  R$: 'BRL',
};

/** ISO 4217 names, lower-cased, and their plurals ("euro", "euros", "pound sterling", "swiss francs"), where one code has the name. */
const NAMES: ReadonlyMap<string, string> = (() => {
  const codes = new Map<string, string[]>();
  for (const { code, currency } of currencyCodes.data) {
    const name = currency.trim().toLowerCase();
    for (const key of [name, `${name}s`]) codes.set(key, [...(codes.get(key) ?? []), code]);
  }
  return new Map([...codes].filter(([, list]) => list.length === 1).map(([name, [code]]) => [name, code as string]));
})();

/** The ISO 4217 code (upper case) for a code in any case, a name or a symbol of one currency; else the trimmed input. */
export function cleanCurrency(raw: string): string {
  const trimmed = raw.trim();
  const upper = trimmed.toUpperCase();
  if (/^[A-Z]{3}$/.test(upper) && currencyCodes.code(upper)) return upper;
  return SYMBOLS[upper] ?? NAMES.get(trimmed.toLowerCase().replace(/\s+/g, ' ')) ?? trimmed;
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
