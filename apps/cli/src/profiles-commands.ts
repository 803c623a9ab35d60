import { type Command, InvalidArgumentError, Option } from 'commander';
import { mandatory } from './required-options';
import { CliError } from './http';
import type { Ask, Run } from './normalizer-commands';
import { parseIdentifier } from './operations-requests';
import { heldValue, storedForms } from './pii-hashes';
import {
  parseTraitFilter,
  PROFILE_SECTIONS,
  profilesRequests as requests,
  type EventFilter,
  type Page,
  type ProfileSection,
  type TraitsOptions,
} from './profiles-requests';
import { requests as baseRequests, type CliConfig } from './requests';
import { eventName, identifierArg, intInRange, isoTimeArg, traitNames } from './arguments';

/** Repeatable `--trait name=value`. */
const collectTrait = (value: string, previous: Record<string, string> = {}): Record<string, string> => {
  const pair = parseTraitFilter(value);
  if (!pair) throw new InvalidArgumentError('must be name=value, e.g. plan=pro');
  return { ...previous, [pair[0]]: pair[1] };
};

/** The profile-store's largest page (of events, and of a search). */
const MAX_PAGE = 200;

const pageOptions = (command: Command): Command =>
  command
    .option('--limit <n>', `page size (1-${MAX_PAGE})`, intInRange(1, MAX_PAGE))
    .option('--cursor <c>', 'the "next" value of the previous page');

/** The profile-store's bound on the timeline retention. */
const MAX_RETENTION_DAYS = 36_500;

/** Identifier types a workspace's PII policy can store hashed (see the normalizer's `pii/hashes`). */
const HASHABLE = new Set(['email', 'phone', 'device_id', 'advertising_id']);

/**
 * A `type:value` id as the profile-store and the identity graph hold it: the hashed value where the workspace's PII
 * policy stores it hashed, else the value cleaned as its events are (asked of the normalizer; when that cannot
 * answer, e.g. without the admin scope, the id as given). A profile id, or another type, is left as it is.
 */
async function storedId(ask: Ask, c: CliConfig, id: string): Promise<string> {
  const ref = parseIdentifier(id);
  if (!ref || !HASHABLE.has(ref.type)) return id;
  const held = await heldValues(ask, c, [ref]);
  return held?.[0] === undefined ? id : `${ref.type}:${held[0]}`;
}

/** Each identifier's value as the profiles hold it, or null when the normalizer cannot say (callers keep what was given). */
async function heldValues(ask: Ask, c: CliConfig, refs: { type: string; value: string }[]): Promise<string[] | null> {
  try {
    return (await storedForms(ask, c, refs)).map(heldValue);
  } catch {
    return null;
  }
}

/** Traits that are identifiers of the same type: the PII policy hashes them as `traits.<name>`. */
const HASHABLE_TRAITS = new Set(['email', 'phone']);

/**
 * The search's `email` and `phone` values as the profiles hold them: hashed where the workspace's PII
 * policy hashes them (else a search for a hashed email finds nobody); as given when the normalizer
 * cannot say.
 */
async function storedTraits(ask: Ask, c: CliConfig, traits: Record<string, string>): Promise<Record<string, string>> {
  const refs = Object.entries(traits)
    .filter(([name]) => HASHABLE_TRAITS.has(name))
    .map(([type, value]) => ({ type, value }));
  if (refs.length === 0) return traits;
  const held = await heldValues(ask, c, refs);
  return held ? { ...traits, ...Object.fromEntries(refs.map((r, i) => [r.type, held[i] ?? r.value])) } : traits;
}

/** `profiles`, `profile-settings` (profile-store) and `identities` (identity-resolver). */
export function addProfilesCommands(program: Command, run: Run, ask: Ask): void {
  const identities = program.command('identities').description('the identity graph (identity-resolver)');
  identities
    .command('get')
    .description('the profile of an identifier and the merges that led there')
    .argument('<type:value>', 'e.g. email:jane@example.com', identifierArg)
    .action(run(async (c, typeValue: string) => baseRequests.getIdentity(c, await storedId(ask, c, typeValue))));
  identities
    .command('delete')
    .description(
      'remove an identifier from its person (a wrong link): the identity graph, then the profile and its ' +
        'type:value lookup; it stands for a new person from then on (admin API key)',
    )
    .argument('<type:value>', 'e.g. email:shared@example.com', identifierArg)
    .action(run(async (c, typeValue: string) => requests.deleteIdentity(c, await storedId(ask, c, typeValue))));

  const profiles = program.command('profiles').description('profiles (profile-store)');
  pageOptions(
    profiles
      .command('get')
      .description('a profile by id or type:value, or one part of it')
      .argument('<id>', 'profile id, or e.g. email:jane@example.com, user_id:42')
      .addOption(new Option('--section <name>', 'only one part of it').choices(PROFILE_SECTIONS))
      .option('--verbose', 'with --section traits: when, from where and by which event each trait was set')
      .option('--include <names>', 'with --section traits: only these traits, comma-separated (up to 100), e.g. plan,country', traitNames)
      .option('--event <name>', 'with --section events: only track events of this name, and page and screen calls of this name', eventName)
      .option(
        '--since <time>',
        'with --section events: events at or after: ISO 8601 time, or a duration back from now: 30m, 24h, 7d',
        isoTimeArg,
      )
      .option('--until <time>', 'with --section events: events before; same forms as --since', isoTimeArg),
  ).action(
    run(async (c, id: string, opts: Page & TraitsOptions & EventFilter & { section?: ProfileSection }) => {
      if ((opts.verbose || opts.include !== undefined) && opts.section !== 'traits')
        throw new CliError('--verbose and --include go with --section traits', 2);
      const eventOptions = [opts.limit, opts.cursor, opts.event, opts.since, opts.until];
      if (eventOptions.some((o) => o !== undefined) && opts.section !== 'events')
        throw new CliError('--limit, --cursor, --event, --since and --until go with --section events', 2);
      // Both are ISO 8601 UTC by now; the API would refuse the empty range too.
      if (opts.since !== undefined && opts.until !== undefined && Date.parse(opts.until) <= Date.parse(opts.since))
        throw new CliError('--until must be after --since', 2);
      return requests.get(c, await storedId(ask, c, id), opts.section, opts);
    }),
  );
  pageOptions(
    profiles
      .command('search')
      .description('profiles whose traits equal every --trait given (a scan: for lookups, not for per-event use)')
      .addOption(
        mandatory(
          '-t, --trait <name=value>',
          'e.g. plan=pro (repeat for more; an email or phone is sent hashed where the PII policy stores it hashed)',
          collectTrait,
        ),
      ),
  ).action(
    run(async (c, opts: Page & { trait: Record<string, string> }) => requests.search(c, await storedTraits(ask, c, opts.trait), opts)),
  );
  profiles
    .command('export')
    .description('everything held about a person (audited; --json for JSON)')
    .argument('<id>', 'profile id or type:value')
    .action(run(async (c, id: string) => requests.exportProfile(c, await storedId(ask, c, id))));
  profiles
    .command('erase')
    .description('erase a person: profile, identities, timeline, memberships (write:profiles API key)')
    .argument('<id>', 'profile id or type:value')
    .action(run(async (c, id: string) => requests.erase(c, await storedId(ask, c, id))));

  const settings = program.command('profile-settings').description("the workspace's profile settings (profile-store)");
  settings
    .command('get')
    .description('the timeline retention in force')
    .action(run((c) => requests.getSettings(c)));
  settings
    .command('set')
    .description("set the workspace's timeline retention (admin API key)")
    .addOption(
      mandatory(
        '--timeline-retention-days <n>',
        `days the timeline keeps events (0-${MAX_RETENTION_DAYS}; 0: forever)`,
        intInRange(0, MAX_RETENTION_DAYS),
      ),
    )
    .action(run((c, opts: { timelineRetentionDays: number }) => requests.putSettings(c, opts.timelineRetentionDays)));
}
