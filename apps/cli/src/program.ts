import { Command, CommanderError } from 'commander';
import { call, CliError, type ApiRequest, type Transport } from './http';
import { addNormalizerCommands } from './normalizer-commands';
import { addOperationsCommands } from './operations-commands';
import { addProfilesCommands } from './profiles-commands';
import { addSegmentsCommands } from './segments-commands';
import { registerImportCommand } from './import';
import { mandatory, requireOptions } from './required-options';
import { graceSeconds } from './arguments';
import { render } from './render';
import { ENV, parseScopes, requests, resolveConfig, serviceUrlDefault, type CliConfig, type GlobalFlags } from './requests';

/** Everything the CLI touches outside itself, so tests run it without a network, files or a real process. */
export interface CliIo {
  transport: Transport;
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `err` is a terminal (progress bars redraw in place only there). */
  errIsTty?: boolean;
  readFile: (path: string) => Promise<string>;
}

type Flags = GlobalFlags & { json?: boolean };

/** Builds the `cdp` program; actions print what the services answer. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('cdp')
    .description(
      'Manage the customer data platform over its REST APIs (workspaces, sources, keys, settings, tracking plans, DLQ, rules, identity reviews, ' +
        'segments, predictions, profiles, computed traits, regulations).',
    )
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .option('--json', 'print the raw JSON answer')
    .option('--collector-url <url>', `collector base URL [${serviceUrlDefault('collectorUrl', io.env)}] (env ${ENV.collectorUrl})`)
    .option('--normalizer-url <url>', `normalizer base URL [${serviceUrlDefault('normalizerUrl', io.env)}] (env ${ENV.normalizerUrl})`)
    .option('--identity-url <url>', `identity-resolver base URL [${serviceUrlDefault('identityUrl', io.env)}] (env ${ENV.identityUrl})`)
    .option('--profiles-url <url>', `profile-store base URL [${serviceUrlDefault('profilesUrl', io.env)}] (env ${ENV.profilesUrl})`)
    .option('--segmenter-url <url>', `segmenter base URL [${serviceUrlDefault('segmenterUrl', io.env)}] (env ${ENV.segmenterUrl})`)
    .option('--admin-token <token>', `operator token (creates workspaces; manages any workspace) (env ${ENV.adminToken})`)
    .option('--api-key <key>', `a workspace's API key (Bearer) (env ${ENV.apiKey})`)
    .option('-w, --workspace <id>', `workspace id for the admin commands (env ${ENV.workspace}); with an API key alone, the key's own`);

  /**
   * Runs one request built from the config and prints its answer (`show` for a command's own
   * readable form; `noContent` for what `--json` prints when the answer has no body, e.g. a 204).
   */
  const run =
    <A extends unknown[]>(
      build: (config: CliConfig, ...args: A) => ApiRequest | Promise<ApiRequest>,
      note?: string,
      show: (body: unknown) => string = render,
      noContent: (...args: A) => Record<string, unknown> = () => ({ done: true }),
    ) =>
    async (...args: [...A, ...unknown[]]): Promise<void> => {
      // Commander passes the positional arguments, the command's options, then the command.
      const command = args[args.length - 1] as Command;
      const flags = command.optsWithGlobals<Flags>();
      const config = resolveConfig(flags, io.env);
      const given = args.slice(0, -1) as A;
      const body = await call(io.transport, await build(config, ...given));
      // `null` would tell a script nothing; the readable form of the same answer is `done`.
      if (flags.json) io.out(`${JSON.stringify(body ?? noContent(...given), null, 2)}\n`);
      else {
        io.out(show(body));
        if (note) io.err(`${note}\n`);
      }
    };

  const readJson = async (path: string): Promise<unknown> => {
    let text: string;
    try {
      text = await io.readFile(path);
    } catch (e) {
      throw new CliError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, 2);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new CliError(`${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 2);
    }
  };

  const ask = (request: ApiRequest): Promise<unknown> => call(io.transport, request);

  /**
   * A workspace admin command's config: given only an API key and no --workspace, the key's own
   * workspace (asked of the collector). The operator token names no workspace: it needs --workspace.
   */
  const inWorkspace = async (c: CliConfig): Promise<CliConfig> => {
    if (c.workspace || c.adminToken || !c.apiKey) return c;
    const who = (await ask(requests.whoami(c))) as { workspaceId?: string };
    return who.workspaceId ? { ...c, workspace: who.workspaceId } : c;
  };

  const workspaces = program.command('workspaces').description('workspaces (operator token)');
  workspaces
    .command('create')
    .description('create a workspace; answers its id, a write key and an admin API key (shown once)')
    .argument('<name>', 'display name')
    .action(
      run((c, name: string) => requests.createWorkspace(c, name), 'Keep the write key and the API key now: they are not shown again.'),
    );

  const sources = program.command('sources').description("a workspace's sources (write keys)");
  sources
    .command('list')
    .description('list the sources of --workspace')
    .action(run(async (c) => requests.listSources(await inWorkspace(c))));
  sources
    .command('create')
    .description('create a source; answers its write key (shown once)')
    .argument('<name>', 'display name')
    .action(
      run(async (c, name: string) => requests.createSource(await inWorkspace(c), name), 'Keep the write key now: it is not shown again.'),
    );

  const mapping = sources
    .command('webhook-mapping')
    .description("a source's webhook mapping: its payloads to Segment fields (see apps/collector)");
  mapping
    .command('get')
    .argument('<sourceId>', 'the source')
    .description("print the source's mapping")
    .action(run(async (c, sourceId: string) => requests.webhookMapping(await inWorkspace(c), 'GET', sourceId)));
  mapping
    .command('set')
    .argument('<sourceId>', 'the source')
    .argument('<file>', 'JSON file with the mapping (file - = stdin)')
    .description("replace the source's mapping")
    .action(
      run(async (c, sourceId: string, file: string) =>
        requests.webhookMapping(await inWorkspace(c), 'PUT', sourceId, await readJson(file)),
      ),
    );
  mapping
    .command('delete')
    .argument('<sourceId>', 'the source')
    .description("remove the source's mapping (its webhook calls are refused from then on)")
    .action(
      run(
        async (c, sourceId: string) => requests.webhookMapping(await inWorkspace(c), 'DELETE', sourceId),
        undefined,
        undefined,
        (sourceId) => ({ sourceId, deleted: true }),
      ),
    );

  const keys = program.command('keys').description("a workspace's keys (write keys and API keys)");
  keys
    .command('list')
    .description('list the keys of --workspace (ids, kinds, scopes; never the keys)')
    .action(run(async (c) => requests.listKeys(await inWorkspace(c))));
  keys
    .command('rotate')
    .description("replace a source's write key: a new one is answered (shown once), the old ones are revoked (after --grace)")
    .argument('<sourceId>', 'the source')
    .option(
      '--grace <duration>',
      'keep the old keys working this long while apps move to the new one (e.g. 24h; at most 7d) [0]',
      graceSeconds,
    )
    .action(
      run(
        async (c, sourceId: string, opts: { grace?: number }) => requests.rotateWriteKey(await inWorkspace(c), sourceId, opts.grace),
        'Keep the new write key now: it is not shown again.',
      ),
    );
  keys
    .command('revoke')
    .description('revoke a key by its id (see keys list)')
    .argument('<keyId>', 'the key id')
    .action(
      run(
        async (c, keyId: string) => requests.revokeKey(await inWorkspace(c), keyId),
        'Refused from now on by the collector that revoked it; other instances and services may accept it for up to their key cache (CDP_KEY_CACHE_MS, 30 s).',
      ),
    );

  program
    .command('api-keys')
    .description('API keys of a workspace')
    .command('create')
    .description('create an API key with scopes (read:profiles, write:profiles, read:segments, write:segments, read:identities, admin)')
    .argument('<name>', 'display name')
    .addOption(mandatory('--scopes <list>', 'comma-separated scopes', parseScopes))
    .action(
      run(
        async (c, name: string, opts: { scopes: string[] }) => requests.createApiKey(await inWorkspace(c), name, opts.scopes),
        'Keep the API key now: it is not shown again.',
      ),
    );

  const rules = program.command('identity-rules').description("the workspace's identity rules (identity-resolver; admin API key)");
  rules
    .command('get')
    .description('print the effective rules')
    .action(run((c) => requests.getIdentityRules(c)));
  rules
    .command('set')
    .description('replace the rules from a JSON file (omitted fields take the defaults)')
    .argument('<file>', 'JSON file, e.g. {"limits": {"email": 3}}')
    .action(run(async (c, file: string) => requests.putIdentityRules(c, await readJson(file))));

  addNormalizerCommands(program, run, readJson, ask);

  addSegmentsCommands(program, run, readJson, ask);
  addProfilesCommands(program, run, ask);

  addOperationsCommands(program, run, readJson, ask);

  registerImportCommand(program, io);

  return requireOptions(program);
}

/** Runs the CLI on argv (without node and the script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError) {
      io.err(`cdp: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`cdp: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
