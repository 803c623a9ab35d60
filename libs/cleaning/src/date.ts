const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

const isCalendarDate = (y: number, m: number, d: number): boolean => {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(y);
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

const iso = (y: number, m: number, d: number): string | undefined =>
  isCalendarDate(y, m, d) ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : undefined;

/**
 * An ISO 8601 calendar date (`YYYY-MM-DD`) from the unambiguous forms people send:
 * `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, an ISO date-time (its own calendar date, not shifted
 * to UTC), `DD.MM.YYYY`, or epoch milliseconds (UTC). `01/02/1990` is ambiguous (US or
 * European order), so it is not guessed: undefined.
 */
export function isoDate(raw: string | number): string | undefined {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || Math.abs(raw) > 8.64e15) return undefined;
    const d = new Date(raw);
    return iso(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  }
  const s = raw.trim();
  let m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i.exec(s);
  if (m) return iso(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (m) return iso(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(s);
  if (m) return iso(Number(m[3]), Number(m[2]), Number(m[1]));
  return undefined;
}

/** The ISO date when recognised, else the value as sent (trimmed). */
export function cleanDate(raw: string | number): string | number {
  return isoDate(raw) ?? (typeof raw === 'string' ? raw.trim() : raw);
}
