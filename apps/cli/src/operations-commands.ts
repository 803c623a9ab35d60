import { type Command, InvalidArgumentError, Option } from 'commander';
import { mandatory } from './required-options';
import { CliError } from './http';
import type { Ask, Run } from './normalizer-commands';
import { storedForms, type StoredForm } from './pii-hashes';
import type { CliConfig } from './requests';
import { operationsRequests as requests, parseIdentifier, type ReviewListOptions } from './operations-requests';
import { intInRange } from './arguments';

/** Repeatable `--identifier type:value`. */
const collectIdentifier = (value: string, previous: { type: string; value: string }[] = []) => {
  const id = parseIdentifier(value);
  if (!id) throw new InvalidArgumentError('must be type:value, e.g. email:jane@example.com');
  return [...previous, id];
};

interface TraitFlags {
  file?: string;
  event?: string;
  aggregation?: string;
  property?: string;
  windowDays?: number;
}

/** The definition of `computed-traits put`: the file's object, then the flags on top. */
export function traitDefinition(fromFile: unknown, flags: TraitFlags): Record<string, unknown> {
  if (fromFile !== undefined && (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)))
    throw new CliError(`${flags.file} must hold a JSON object, e.g. {"event": "Order Completed", "aggregation": "count"}`, 2);
  const def: Record<string, unknown> = { ...((fromFile as Record<string, unknown> | undefined) ?? {}) };
  if (flags.event !== undefined) def['event'] = flags.event;
  if (flags.aggregation !== undefined) def['aggregation'] = flags.aggregation;
  if (flags.property !== undefined) def['property'] = flags.property;
  if (flags.windowDays !== undefined) def['windowDays'] = flags.windowDays;
  if (Object.keys(def).length === 0) throw new CliError('give --file or at least --event and --aggregation', 2);
  if (def['event'] === undefined) throw new CliError('give --event: the event the trait aggregates (or "event" in --file)', 2);
  return def;
}

/**
 * `computed-traits` and `regulations` (profile-store), `predictions` (segmenter) and
 * `identity-reviews` (identity-resolver). The services validate the values; the CLI only shapes them.
 */
/**
 * A regulation file's identifiers: `[{type, value}]`, `["type:value"]`, or the API's own body
 * `{"identifiers": [...]}`; the entries are the service's to judge, anything else is refused here.
 */
function identifiersIn(json: unknown, file: string): unknown[] {
  const list = Array.isArray(json)
    ? json
    : typeof json === 'object' && json !== null
      ? (json as Record<string, unknown>)['identifiers']
      : undefined;
  if (!Array.isArray(list))
    throw new CliError(
      `${file} must hold the identifiers as a JSON array: [{"type": "email", "value": "jane@example.com"}], ["email:jane@example.com"] or {"identifiers": [...]}`,
      2,
    );
  return list.map((item) => (typeof item === 'string' ? (parseIdentifier(item) ?? item) : item));
}

type Identifier = { type: string; value: string };

/** The profile-store's bound on the identifiers of one regulation. */
const MAX_REGULATION_IDENTIFIERS = 1_000;

/**
 * The identifiers with, for each, what the workspace stores instead when that differs: the value
 * cleaned as its events are (a phone without country code read in the workspace's default region,
 * not as a US number) and the hash where its PII policy hashes it, so a regulation finds the person
 * in the identity graph and the profiles and stops their new events.
 */
async function withPiiHashes(ask: Ask, c: CliConfig, identifiers: unknown): Promise<unknown> {
  if (!Array.isArray(identifiers)) return identifiers;
  let forms: StoredForm[];
  try {
    forms = await storedForms(ask, c, identifiers as Identifier[]);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new CliError(
      `${why}\nthe workspace's PII policy may store some of these identifiers hashed, and a regulation naming only their values would miss them there; ` +
        'run this with an admin API key, or add --no-pii-hashes to file it without looking',
    );
  }
  const added = (identifiers as Identifier[]).flatMap(({ type, value }, i): Identifier[] => {
    const form = forms[i];
    if (!form) return [];
    return [form.value, form.hashed].flatMap((v) => (v !== null && v !== value ? [{ type, value: v }] : []));
  });
  const all = [...identifiers, ...added];
  if (all.length > MAX_REGULATION_IDENTIFIERS)
    throw new CliError(
      `with the values the workspace stores (cleaned, hashed), this regulation names ${all.length} identifiers, ` +
        `more than the ${MAX_REGULATION_IDENTIFIERS} a regulation takes: split it (e.g. files of ${MAX_REGULATION_IDENTIFIERS / 2})`,
      2,
    );
  return all;
}

export function addOperationsCommands(program: Command, run: Run, readJson: (path: string) => Promise<unknown>, ask: Ask): void {
  const traits = program
    .command('computed-traits')
    .description("the workspace's user-defined computed traits (profile-store), with the progress of their backfill");
  traits
    .command('list')
    .description('every definition and its backfill status')
    .action(run((c) => requests.listComputedTraits(c)));
  traits
    .command('get')
    .description('one definition and its backfill progress (status, percent, profiles/s)')
    .argument('<name>', 'trait name')
    .action(run((c, name: string) => requests.getComputedTrait(c, name)));
  traits
    .command('put')
    .description('create or replace a definition from flags or a JSON file (flags win); a new or changed one is backfilled')
    .argument('<name>', 'trait name: lower-case letters, digits and _')
    .option(
      '-f, --file <path>',
      'JSON file with the definition, e.g. {"event": "Order Completed", "aggregation": "sum", "property": "total"}',
    )
    .option('--event <name>', 'the track event aggregated')
    .option('--aggregation <kind>', 'count, sum, min, max, average, first, last, most_frequent or distinct_count')
    .option('--property <name>', 'top-level event property (all but count)')
    .option('--window-days <n>', 'sliding window in UTC days (1-365) [all time]', intInRange(1, 365))
    .action(
      run(async (c, name: string, opts: TraitFlags) =>
        requests.putComputedTrait(c, name, traitDefinition(opts.file === undefined ? undefined : await readJson(opts.file), opts)),
      ),
    );
  traits
    .command('delete')
    .description('delete a definition (its values go with it)')
    .argument('<name>', 'trait name')
    .action(
      run(
        (c, name: string) => requests.deleteComputedTrait(c, name),
        undefined,
        undefined,
        (name) => ({ name, deleted: true }),
      ),
    );

  const regulations = program
    .command('regulations')
    .description('privacy regulations: suppress or delete people by identifier (profile-store)');
  regulations
    .command('create')
    .description('file a regulation; the answer has its id (see regulations get)')
    .addOption(mandatory('--type <type>', 'e.g. suppress, delete, suppress_with_delete, unsuppress (the service checks it)'))
    .option('-i, --identifier <type:value>', 'an identifier, e.g. email:jane@example.com (repeat for more)', collectIdentifier)
    .option(
      '-f, --file <path>',
      'JSON file with the identifiers: [{"type": "email", "value": "jane@example.com"}] or ["email:jane@example.com"]',
    )
    .option('--no-pii-hashes', "do not add the hashed values the workspace's PII policy stores (asked of the normalizer, admin scope)")
    .action(
      run(async (c, opts: { type: string; identifier?: Identifier[]; file?: string; piiHashes: boolean }) => {
        if (opts.identifier === undefined && opts.file === undefined)
          throw new CliError('give the identifiers with --identifier (repeatable) or --file', 2);
        if (opts.identifier !== undefined && opts.file !== undefined)
          throw new CliError('give the identifiers with --identifier or --file, not both', 2);
        const identifiers = opts.identifier ?? identifiersIn(await readJson(opts.file as string), opts.file as string);
        return requests.createRegulation(c, opts.type, opts.piiHashes ? await withPiiHashes(ask, c, identifiers) : identifiers);
      }),
    );
  regulations
    .command('get')
    .description("a regulation's status and counts")
    .argument('<id>', 'regulation id')
    .action(run((c, id: string) => requests.getRegulation(c, id)));

  const predictions = program.command('predictions').description("the workspace's predictions (segmenter)");
  predictions
    .command('run')
    .description('recompute the predictions now and wait for the result (admin API key)')
    .action(run((c) => requests.runPredictions(c)));
  predictions
    .command('report')
    .description('the report of the latest run')
    .action(run((c) => requests.predictionsReport(c)));
  predictions
    .command('profile')
    .description("one profile's predictions: RFM, churn risk, cluster (read:profiles API key)")
    .argument('<profileId>', 'the profile id (as in the segment changes)')
    .action(run((c, profileId: string) => requests.profilePredictions(c, profileId)));

  const reviews = program.command('identity-reviews').description('merges held for review (identity-resolver)');
  reviews
    .command('list')
    .description('reviews, newest first')
    .addOption(new Option('--status <status>', 'which reviews [pending]').choices(['pending', 'accepted', 'rejected']))
    .option('--limit <n>', 'page size (1-200) [50]', intInRange(1, 200))
    .option('--offset <n>', 'reviews to skip (0-1000000)', intInRange(0, 1_000_000))
    .action(run((c, opts: ReviewListOptions) => requests.listIdentityReviews(c, opts)));
  reviews
    .command('accept')
    .description('accept a review: the profiles are merged (admin API key)')
    .argument('<id>', 'review id')
    .action(run((c, id: string) => requests.acceptIdentityReview(c, id)));
  reviews
    .command('reject')
    .description('reject a review: the profiles stay apart (admin API key)')
    .argument('<id>', 'review id')
    .action(run((c, id: string) => requests.rejectIdentityReview(c, id)));
}
