import { Command, Option } from 'commander';

/**
 * Required options checked after commander has refused unknown ones. Commander checks its own
 * mandatory options first, so a misspelt `--tpye suppress` read as "required option --type not
 * specified" instead of naming the typo (and suggesting the right spelling).
 */
const required = new WeakSet<Option>();

/** An option that must be given (for `.addOption`); `requireOptions` on the program enforces it. */
export function mandatory<T>(flags: string, description: string, parse?: (value: string, previous: T) => T): Option {
  const option = new Option(flags, `${description} (required)`);
  if (parse) option.argParser(parse);
  required.add(option);
  return option;
}

/** Refuses an action whose required options (see `mandatory`) are missing, with commander's own message. */
export function requireOptions(program: Command): Command {
  return program.hook('preAction', (_program, action) => {
    const missing = action.options.find((o) => required.has(o) && action.getOptionValue(o.attributeName()) === undefined);
    if (missing) action.error(`error: required option '${missing.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
  });
}
