import { mean, standardDeviation } from 'simple-statistics';

/** Per-column mean and standard deviation of a training matrix, applied to any row later. */
export interface Standardizer {
  means: number[];
  sds: number[];
}

export function fitStandardizer(rows: readonly (readonly number[])[]): Standardizer {
  const width = rows[0]?.length ?? 0;
  const means: number[] = [];
  const sds: number[] = [];
  for (let j = 0; j < width; j++) {
    const column = rows.map((r) => r[j] as number);
    means.push(mean(column));
    const sd = column.length > 1 ? standardDeviation(column) : 0;
    // A constant column carries no information: scale 1 keeps it at 0 instead of dividing by 0.
    sds.push(sd > 1e-12 ? sd : 1);
  }
  return { means, sds };
}

export const standardizeRow = (s: Standardizer, row: readonly number[]): number[] =>
  row.map((v, j) => (v - (s.means[j] as number)) / (s.sds[j] as number));
