/**
 * `--name=value` and `--flag` command-line options (bench and chaos), with `num(name, full, quick)`
 * for numbers whose default depends on `--quick`.
 */
export function parseArgs(argv) {
  const args = Object.fromEntries(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? 'true'];
    }),
  );
  const quick = args.quick === 'true';
  const num = (name, full, fast) => Number(args[name] ?? (quick ? fast : full));
  return { args, quick, num };
}
