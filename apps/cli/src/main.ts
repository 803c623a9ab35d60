import { readFile } from 'node:fs/promises';
import { fetchTransport } from './http';
import { runCli } from './program';

/** `-` reads the file from standard input, so rules can be piped in. */
const readInput = async (path: string): Promise<string> => {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

void runCli(process.argv.slice(2), {
  transport: fetchTransport,
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTty: process.stderr.isTTY === true,
  readFile: readInput,
}).then((code) => {
  process.exitCode = code;
});
