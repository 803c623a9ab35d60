import type { LabeledRecord } from '@cdp/record-linkage';

/** Parses an NDJSON labeled set; a bad line is an error naming its line number. */
export function parseLabeledNdjson(text: string): LabeledRecord[] {
  const out: LabeledRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1}: not JSON`);
    }
    const r = row as Partial<LabeledRecord>;
    if (!r || typeof r !== 'object' || typeof r.entityId !== 'string' || !r.record || typeof r.record !== 'object')
      throw new Error(`line ${i + 1}: expected {"id", "entityId": string, "record": object}`);
    out.push({ id: typeof r.id === 'string' ? r.id : `line${i + 1}`, entityId: r.entityId, record: r.record });
  });
  return out;
}

export function toNdjson(records: readonly LabeledRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
