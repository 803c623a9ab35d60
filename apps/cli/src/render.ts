/**
 * Human output: an indented, YAML-like listing of the service's answer (`--json` prints it raw).
 * Lists of objects print one block per item, so `sources list` and `keys list` stay readable.
 */
export function render(value: unknown): string {
  // An answer without a body (204: deleted, revoked) is a success with nothing to show.
  if (value === null || value === undefined) return 'done\n';
  const lines: string[] = [];
  write(value, 0, lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

const pad = (depth: number): string => '  '.repeat(depth);

const scalar = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return String(v);
};

const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';

function write(value: unknown, depth: number, lines: string[]): void {
  if (isScalar(value)) {
    lines.push(`${pad(depth)}${scalar(value)}`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) lines.push(`${pad(depth)}(none)`);
    for (const item of value) {
      if (isScalar(item)) lines.push(`${pad(depth)}- ${scalar(item)}`);
      else if (Array.isArray(item) || Object.keys(item as object).length === 0) lines.push(`${pad(depth)}- ${JSON.stringify(item)}`);
      else {
        const block: string[] = [];
        write(item, depth + 1, block);
        // The first line of an item's block carries the dash.
        lines.push(...block.map((line, i) => (i === 0 ? `${pad(depth)}- ${line.slice(pad(depth + 1).length)}` : line)));
      }
    }
    return;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (isScalar(v)) lines.push(`${pad(depth)}${key}: ${scalar(v)}`);
    else if (Array.isArray(v) && v.every(isScalar))
      lines.push(`${pad(depth)}${key}: ${v.length === 0 ? '(none)' : v.map(scalar).join(', ')}`);
    else if (!Array.isArray(v) && Object.keys(v as object).length === 0) lines.push(`${pad(depth)}${key}: {}`);
    else {
      lines.push(`${pad(depth)}${key}:`);
      write(v, depth + 1, lines);
    }
  }
}
