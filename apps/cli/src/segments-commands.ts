import { type Command } from 'commander';
import { CliError } from './http';
import type { Ask, Run } from './normalizer-commands';
import type { CliConfig } from './requests';
import { parseTraitList, segmentsRequests as requests, type SegmentFields } from './segments-requests';
import { renderSizeHistory } from './size-history';
import { intInRange } from './arguments';

interface DefinitionFlags {
  definition?: string;
  file?: string;
  outputTraits?: string[];
  outputTopic?: string;
}

/** Options shared by create and update (update replaces the segment, so it takes the same ones). */
const definitionOptions = (command: Command): Command =>
  command
    .option('-d, --definition <text>', `text form, e.g. "trait('country') = 'DE'"`)
    .option('-f, --file <path>', 'JSON file with the definition AST')
    .option('--output-traits <list>', 'traits copied onto its changes, comma-separated (up to 50)', parseTraitList)
    .option('--output-topic <name>', 'a topic its changes are also produced on (letters, digits, . _ -; created on save)');

/** Segment ids are `seg_` and base64url (the segmenter's newSegmentId); anything else is taken for a name. */
const SEGMENT_ID = /^seg_[A-Za-z0-9_-]+$/;

/** The id of a segment given by id or by its name (names are unique per workspace), asked of the segmenter. */
async function segmentId(ask: Ask, c: CliConfig, idOrName: string): Promise<string> {
  if (SEGMENT_ID.test(idOrName)) return idOrName;
  const { items = [] } = (await ask(requests.list(c))) as { items?: { id: string; name: string }[] };
  const named = items.find((s) => s.name === idOrName.trim());
  if (!named)
    throw new CliError(`no segment is named ${JSON.stringify(idOrName)}: give its id (seg_...) or its name (see segments list)`, 1);
  return named.id;
}

/** `segments`: definitions, members, size history and the definition schema (segmenter). */
export function addSegmentsCommands(program: Command, run: Run, readJson: (path: string) => Promise<unknown>, ask: Ask): void {
  const idOf = (c: CliConfig, idOrName: string): Promise<string> => segmentId(ask, c, idOrName);
  const fields = async (name: string, opts: DefinitionFlags): Promise<SegmentFields> => {
    if ((opts.definition === undefined) === (opts.file === undefined)) throw new CliError('give exactly one of --definition and --file', 2);
    return {
      name,
      definition: opts.definition ?? (await readJson(opts.file as string)),
      outputTraits: opts.outputTraits,
      outputTopic: opts.outputTopic,
    };
  };

  const segments = program.command('segments').description('segments (segmenter)');
  segments
    .command('list')
    .description("list the workspace's segments")
    .action(run((c) => requests.list(c)));
  segments
    .command('get')
    .description('one segment, with its backfill progress')
    .argument('<id>', 'segment id, or its name')
    .action(run(async (c, id: string) => requests.get(c, await idOf(c, id))));
  definitionOptions(
    segments
      .command('create')
      .description('create a segment from the text form (--definition) or a JSON AST file (--file)')
      .argument('<name>', 'display name'),
  ).action(run(async (c, name: string, opts: DefinitionFlags) => requests.create(c, await fields(name, opts))));
  definitionOptions(
    segments
      .command('update')
      .description('replace a segment (bumps its version and backfills); options left out are cleared, e.g. its output topic')
      .argument('<id>', 'segment id, or its name')
      .argument('<name>', 'display name'),
  ).action(
    run(async (c, id: string, name: string, opts: DefinitionFlags) => requests.update(c, await idOf(c, id), await fields(name, opts))),
  );
  segments
    .command('delete')
    .description('delete a segment: every member exits first (on its changes topics), then it is gone')
    .argument('<id>', 'segment id, or its name')
    .action(
      run(
        async (c, id: string) => requests.remove(c, await idOf(c, id)),
        undefined,
        undefined,
        (id) => ({ id, deleted: true }),
      ),
    );
  segments
    .command('preview')
    .description('how many profiles a draft definition matches, with a sample of them, without saving it')
    .option('-d, --definition <text>', `text form, e.g. "trait('country') = 'DE'"`)
    .option('-f, --file <path>', 'JSON file with the definition AST')
    .action(run(async (c, opts: DefinitionFlags) => requests.preview(c, (await fields('preview', opts)).definition)));
  segments
    .command('members')
    .description('a page of members')
    .argument('<id>', 'segment id, or its name')
    .option('--limit <n>', 'page size (1-1000)', intInRange(1, 1000))
    .option('--after <profileId>', 'the "next" value of the previous page')
    .action(
      run(async (c, id: string, opts: { limit?: number; after?: string }) =>
        requests.members(c, await idOf(c, id), opts.limit, opts.after),
      ),
    );
  segments
    .command('size-history')
    .description('members at the end of each UTC day, with the entries and exits of the day, oldest first')
    .argument('<id>', 'segment id, or its name')
    .option('--days <n>', 'days ending today (1-366) [30]', intInRange(1, 366))
    .action(
      run(
        async (c, id: string, opts: { days?: number }) => requests.sizeHistory(c, await idOf(c, id), opts.days),
        undefined,
        renderSizeHistory,
      ),
    );
  segments
    .command('schema')
    .description('the JSON Schema (draft-07) of segment definitions (the --file AST); always printed as JSON')
    .action(
      run(
        (c) => requests.schema(c),
        undefined,
        (body) => `${JSON.stringify(body, null, 2)}\n`,
      ),
    );
}
