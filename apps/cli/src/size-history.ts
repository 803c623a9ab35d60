import { CliError } from './http';

interface SizeDay {
  day: string;
  members: number;
  entered: number;
  exited: number;
}

const isSizeDay = (v: unknown): v is SizeDay => {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return typeof d['day'] === 'string' && ['members', 'entered', 'exited'].every((k) => typeof d[k] === 'number');
};

const COLUMNS = ['day', 'members', 'entered', 'exited'] as const;

/** `segments size-history` as a table, one row per UTC day (oldest first, as the segmenter answers). */
export function renderSizeHistory(body: unknown): string {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || !items.every(isSizeDay)) throw new CliError('the segmenter answered an unexpected size history', 1);
  if (items.length === 0) return '(no days)\n';
  const rows = [[...COLUMNS] as string[], ...items.map((d) => COLUMNS.map((c) => String(d[c])))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  // The day left-aligned, the counts right-aligned.
  const line = (r: string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  return `${rows.map(line).join('\n')}\n`;
}
