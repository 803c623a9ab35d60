import { type Command, InvalidArgumentError, Option } from 'commander';
import { DLQ_REASONS } from '@cdp/contracts';
import { mandatory } from './required-options';
import { CliError, type ApiRequest } from './http';
import { normalizerRequests as requests, PLAN_MODES, type DlqOptions, type PlanMode, type ViolationOptions } from './normalizer-requests';
import type { CliConfig } from './requests';
import { DLQ_STAGES, dlqReason, intInRange, timeArg } from './arguments';

/** The program's request runner (see buildProgram). */
export type Run = <A extends unknown[]>(
  build: (config: CliConfig, ...args: A) => ApiRequest | Promise<ApiRequest>,
  note?: string,
  show?: (body: unknown) => string,
  noContent?: (...args: A) => Record<string, unknown>,
) => (...args: [...A, ...unknown[]]) => Promise<void>;

const bool = (value: string): boolean => {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new InvalidArgumentError('must be true or false');
};

/** Exactly one of an event name and --traits. */
const target = (event: string | undefined, opts: { traits?: boolean }): string | undefined => {
  if ((event === undefined) === !opts.traits)
    throw new CliError('give an event name or --traits (the identify traits schema), not both', 2);
  return event;
};

const dlqFilters = (command: Command): Command =>
  command
    .option('--reason <code>', 'a DLQ reason code, e.g. tracking_plan_violation (all of them below)', dlqReason)
    .addOption(new Option('--stage <name>', 'the stage that rejected them').choices(DLQ_STAGES))
    .option('--since <time>', 'ISO 8601 time, or a duration back from now: 30m, 24h, 7d', timeArg)
    .option('--until <time>', 'same forms as --since', timeArg)
    .addHelpText('after', `\nDLQ reason codes: ${DLQ_REASONS.join(', ')}.`);

/** `settings`, `tracking-plans` and `dlq`: the normalizer's API (admin API key). */
/** Sends a request and answers its body (a non-2xx answer throws CliError): for commands that read before they write. */
export type Ask = (request: ApiRequest) => Promise<unknown>;

export function addNormalizerCommands(program: Command, run: Run, readJson: (path: string) => Promise<unknown>, ask: Ask): void {
  const settings = program
    .command('settings')
    .description("the workspace's normalizer settings: phone region, IP anonymization, consent, PII");
  settings
    .command('get')
    .description('print the effective settings')
    .action(run((c) => requests.getSettings(c)));
  settings
    .command('set')
    .description('replace the settings from a JSON file (omitted fields take the defaults)')
    .argument('<file>', 'JSON file, e.g. {"defaultRegion": "DE", "pii": [{"path": "traits.email", "action": "hash"}]}')
    .action(run(async (c, file: string) => requests.putSettings(c, await readJson(file))));

  const plans = program
    .command('tracking-plans')
    .description("the workspace's tracking plan (a JSON Schema per event, and for identify traits)");
  plans
    .command('list')
    .description('the whole plan: default mode, events with their modes and schemas, traits')
    .action(run((c) => requests.listPlans(c)));
  plans
    .command('defaults')
    .description(
      "set the plan's default mode (also for events without a mode of their own, and unplanned events) and/or whether " +
        'unplanned events are allowed; what is not given stays as it is',
    )
    .addOption(new Option('--mode <mode>', 'default mode').choices(PLAN_MODES))
    .option('--allow-unplanned <bool>', 'true or false', bool)
    .action(
      run(async (c, opts: { mode?: PlanMode; allowUnplanned?: boolean }) => {
        if (opts.mode === undefined && opts.allowUnplanned === undefined) throw new CliError('give --mode and/or --allow-unplanned', 2);
        // The API replaces both: the one not given is read first, so it stays.
        const current =
          opts.mode === undefined || opts.allowUnplanned === undefined
            ? ((await ask(requests.listPlans(c))) as { mode?: PlanMode; allowUnplannedEvents?: boolean })
            : {};
        return requests.putPlanOptions(c, {
          mode: opts.mode ?? current.mode ?? 'flag',
          allowUnplannedEvents: opts.allowUnplanned ?? current.allowUnplannedEvents ?? true,
        });
      }),
    );
  plans
    .command('get')
    .description("one event's schema and mode (or --traits)")
    .argument('[event]', 'track event name')
    .option('--traits', 'the identify traits schema')
    .action(run((c, event: string | undefined, opts: { traits?: boolean }) => requests.getPlan(c, target(event, opts))));
  plans
    .command('put')
    .description("set one event's schema (or --traits) from a JSON Schema file; the normalizer refuses a schema ajv cannot compile")
    .argument('[event]', 'track event name')
    .option('--traits', 'the identify traits schema')
    .addOption(mandatory('-f, --file <path>', 'JSON Schema of the properties (or traits)'))
    .addOption(new Option('--mode <mode>', "what a violation does [the plan's default mode]").choices(PLAN_MODES))
    .action(
      run(async (c, event: string | undefined, opts: { traits?: boolean; file: string; mode?: PlanMode }) => {
        const name = target(event, opts);
        return requests.putPlan(c, name, await readJson(opts.file), opts.mode);
      }),
    );
  plans
    .command('delete')
    .description("remove one event's schema (or --traits) from the plan")
    .argument('[event]', 'track event name')
    .option('--traits', 'the identify traits schema')
    .action(
      run(
        (c, event: string | undefined, opts: { traits?: boolean }) => requests.deletePlan(c, target(event, opts)),
        undefined,
        undefined,
        (event) => (event === undefined ? { traits: true, deleted: true } : { event, deleted: true }),
      ),
    );
  plans
    .command('violations')
    .description(
      'the kinds of violations of flagged events (flag mode): per event and field, how often, first and last seen, ' +
        'and an example; newest first',
    )
    .option('--event <name>', 'only this event')
    .option('--since <time>', 'last seen since: ISO 8601 time, or a duration back from now: 30m, 24h, 7d', timeArg)
    .option('--limit <n>', 'kinds to show (1-200) [50]', intInRange(1, 200))
    .action(run((c, opts: ViolationOptions) => requests.listViolations(c, opts)));

  const dlq = program.command('dlq').description("the workspace's dead letters (every stage)");
  dlqFilters(
    dlq
      .command('list')
      .description('counts by reason and stage (and how many of them were replayed), and the most recent letters (never their contents)'),
  )
    .option('--limit <n>', 'recent letters to show (1-500) [50]', intInRange(1, 500))
    .action(run((c, opts: DlqOptions) => requests.listDlq(c, opts)));
  dlqFilters(
    dlq
      .command('replay')
      .description(
        'write the original records of matching letters back to their topic (oldest first), except those replayed before ' +
          '(--again: those too); a replayed event has its effect once',
      ),
  )
    .option('--limit <n>', 'most letters to replay (1-10000) [1000]', intInRange(1, 10_000))
    .option('--again', 'also the letters replayed before')
    .action(run((c, opts: DlqOptions & { again?: boolean }) => requests.replayDlq(c, opts)));
}
