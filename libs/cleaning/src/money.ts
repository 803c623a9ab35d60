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

/**
 * Amounts as apps and CRM exports write them. A comma is a thousands separator when it is
 * followed by groups of three digits after a leading group without a leading zero (`1,234.5`,
 * as before), else a decimal comma (`10,50`, `0,125`); dots grouping thousands before a decimal
 * comma or in two groups or more is the German form (`1.234,56`, `1.234.567`). A lone dot is
 * always a decimal point (`1.234` is 1.234).
 */
const POINT_DECIMAL = /^[+-]?(?:\d+|[1-9]\d{0,2}(?:,\d{3})+)(?:\.\d+)?$/;
const COMMA_DECIMAL = /^[+-]?\d+,\d+$/;
const DOT_THOUSANDS = /^[+-]?[1-9]\d{0,2}(?:(?:\.\d{3})+,\d+|(?:\.\d{3}){2,})$/;
/** Scientific notation (`1e3`, `2.5E-2`), as JSON writes large and small numbers. */
const EXPONENT = /^[+-]?\d+(?:\.\d+)?[eE][+-]?\d{1,3}$/;

/** The number an amount string writes, or null. */
function amountOf(text: string): number | null {
  const n = POINT_DECIMAL.test(text)
    ? Number(text.replace(/,/g, ''))
    : COMMA_DECIMAL.test(text)
      ? Number(text.replace(',', '.'))
      : DOT_THOUSANDS.test(text)
        ? Number(text.replace(/\./g, '').replace(',', '.'))
        : EXPONENT.test(text)
          ? Number(text)
          : NaN;
  return Number.isFinite(n) ? n : null;
}

/** A number from a numeric string ("12.50" -> 12.5, "10,50" -> 10.5); anything else is returned unchanged. */
export function cleanAmount(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  return amountOf(raw.trim()) ?? raw;
}
