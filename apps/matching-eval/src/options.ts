import { parseArgs } from 'node:util';

export interface EvalOptions {
  records: number;
  seed: number;
  file?: string;
  write?: string;
  config?: string;
  estimate: boolean;
  maxBlockSize: number;
  json: boolean;
}

export const USAGE = `Usage: matching-eval [--records N] [--seed S] [--file set.ndjson] [--write out.ndjson]
                     [--config config.json] [--no-estimate] [--max-block-size N] [--json]

Measures pairwise precision, recall and F1 of probabilistic matching at the auto-merge threshold.
  --records N        generate N labeled records (default 20000)
  --seed S           generator seed (default 1)
  --file PATH        read a labeled set instead: NDJSON lines {"id","entityId","record"}
  --write PATH       also write the generated set as NDJSON
  --config PATH      MatchingConfig JSON (weights and thresholds); default: the library defaults
  --no-estimate      score with the configured m/u instead of estimating them with EM on the set
  --max-block-size N skip blocks larger than N (default 100)
  --json             print the report as JSON`;

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Parses the command line; throws an Error with a readable message on bad input. */
export function parseOptions(argv: string[]): EvalOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string' },
      seed: { type: 'string' },
      file: { type: 'string' },
      write: { type: 'string' },
      config: { type: 'string' },
      'no-estimate': { type: 'boolean' },
      'max-block-size': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.file && values.records) throw new Error('--file and --records are exclusive');
  return {
    records: positiveInt('records', values.records, 20000),
    seed: positiveInt('seed', values.seed, 1),
    file: values.file,
    write: values.write,
    config: values.config,
    estimate: !values['no-estimate'],
    maxBlockSize: positiveInt('max-block-size', values['max-block-size'], 100),
    json: !!values.json,
  };
}
