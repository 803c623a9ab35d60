import type { PreparedRecord } from './record';

/**
 * Blocking keys of a record: two records are compared only when they share one. Each key is a short string
 * meant to be stored and looked up by the resolver (e.g. as `_id` = `workspace:key`), so a new record finds
 * its candidates with a few point reads instead of a scan.
 *
 * - `pc:<postal code>:<initial of last name>`
 * - `bd:<birth date>`
 * - `sx:<Soundex of last name>:<birth year>`
 * - `tel:<last nine digits of the phone>`
 * - `em:<email>`
 */
export function blockingKeys(r: PreparedRecord): string[] {
  const keys: string[] = [];
  if (r.postalCode && r.last) keys.push(`pc:${r.postalCode}:${r.last[0]}`);
  if (r.birthday) keys.push(`bd:${r.birthday.iso}`);
  if (r.lastPhonetic && r.birthday) keys.push(`sx:${r.lastPhonetic}:${r.birthday.y}`);
  if (r.phone) keys.push(`tel:${r.phone}`);
  if (r.email) keys.push(`em:${r.email}`);
  return keys;
}

export interface BlockingOptions {
  /**
   * Blocks larger than this are skipped: a shared placeholder (`0000000000`, a call-centre number) would
   * otherwise make a quadratic number of pairs. A resolver applies the same cap to the candidates of a key.
   */
  maxBlockSize?: number;
  /** Records to leave out (ineligible ones); they produce no pairs. */
  include?: (index: number) => boolean;
}

export interface CandidatePairs {
  /** Pairs [i, j] with i < j, each once, however many keys the records share. */
  pairs: Uint32Array;
  count: number;
  blocks: number;
  skippedBlocks: number;
}

/** Candidate pairs of a batch: every pair of records that share a blocking key (deduplicated). */
export function candidatePairs(records: readonly PreparedRecord[], options: BlockingOptions = {}): CandidatePairs {
  const max = options.maxBlockSize ?? 100;
  const blocks = new Map<string, number[]>();
  records.forEach((r, i) => {
    if (options.include && !options.include(i)) return;
    for (const k of blockingKeys(r)) {
      const b = blocks.get(k);
      if (b) b.push(i);
      else blocks.set(k, [i]);
    }
  });
  const seen = new Set<number>();
  const out: number[] = [];
  let skipped = 0;
  const n = records.length;
  for (const members of blocks.values()) {
    if (members.length < 2) continue;
    if (members.length > max) {
      skipped++;
      continue;
    }
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const i = Math.min(members[x], members[y]);
        const j = Math.max(members[x], members[y]);
        const id = i * n + j; // below 2^53 for any batch that fits in memory
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(i, j);
      }
    }
  }
  return { pairs: Uint32Array.from(out), count: out.length / 2, blocks: blocks.size, skippedBlocks: skipped };
}
