// `npm test`: lint, type-check and unit tests, then the integration tier against the real
// local stack (started when needed), on the built services. `--only=integration` skips the first part.
import { run, seconds, SERVICES } from './lib.mjs';

const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const steps = [
  { name: 'lint', cmd: ['npx', ['nx', 'run-many', '-t', 'lint', '--parallel=2']] },
  { name: 'typecheck', cmd: ['npx', ['tsc', '-p', 'tsconfig.check.json']] },
  { name: 'unit tests', cmd: ['npx', ['nx', 'run-many', '-t', 'test', '--parallel=2']] },
  { name: 'helm chart', cmd: ['bash', ['deploy/k8s-tests/run.sh']] },
  { name: 'local stack', integration: true, cmd: ['bash', ['deploy/local/stack.sh', 'up']] },
  {
    name: 'build services',
    integration: true,
    cmd: ['npx', ['nx', 'run-many', '-t', 'build', '--parallel=2', `--projects=${SERVICES.map((s) => s.name).join(',')}`]],
  },
  { name: 'integration tests', integration: true, cmd: ['npx', ['jest', '-c', 'jest.integration.config.cjs']] },
];

const results = [];
const started = Date.now();
for (const step of steps.filter((s) => (only === 'integration' ? s.integration : true))) {
  console.log(`\n=== ${step.name} ===`);
  const t0 = Date.now();
  const code = await run(...step.cmd);
  results.push({ name: step.name, code, ms: Date.now() - t0 });
  if (code !== 0) break;
}

console.log('\n=== summary ===');
for (const r of results) console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(18)} ${seconds(r.ms)}`);
console.log(`total ${seconds(Date.now() - started)}`);
const failed = results.find((r) => r.code !== 0);
process.exit(failed ? failed.code || 1 : 0);
