import { readFileSync, writeFileSync } from 'node:fs';
import { evaluate, generateLabeledRecords, parseMatchingConfig, type LabeledRecord, type MatchingConfig } from '@cdp/record-linkage';
import { parseLabeledNdjson, toNdjson } from './labeled-file';
import { parseOptions, USAGE } from './options';
import { renderReport } from './report';

function main(argv: string[]): number {
  const options = parseOptions(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const parsed = parseMatchingConfig(options.config ? (JSON.parse(readFileSync(options.config, 'utf8')) as unknown) : undefined);
  if (!parsed.ok) throw new Error(`${options.config}: ${parsed.errors.join('; ')}`);
  const config: MatchingConfig = parsed.config;
  let labeled: LabeledRecord[];
  let generateMs: number | undefined;
  let source: string;
  if (options.file) {
    labeled = parseLabeledNdjson(readFileSync(options.file, 'utf8'));
    source = options.file;
  } else {
    const t = performance.now();
    labeled = generateLabeledRecords({ records: options.records, seed: options.seed });
    generateMs = performance.now() - t;
    source = `generated, ${options.records} records, seed ${options.seed}`;
  }
  if (options.write) writeFileSync(options.write, toNdjson(labeled));
  const result = evaluate(labeled, { config, estimate: options.estimate, maxBlockSize: options.maxBlockSize });
  const { config: used, ...evaluation } = result;
  if (options.json) console.log(JSON.stringify({ source, ...evaluation, config: used }, null, 2));
  else
    console.log(
      renderReport(evaluation, { source, generateMs, thresholds: { autoMerge: used.autoMergeThreshold, review: used.reviewThreshold } }),
    );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`matching-eval: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
  process.exitCode = 2;
}
