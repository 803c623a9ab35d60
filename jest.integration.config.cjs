// The integration tier: *.integration-spec.ts against the real local stack
// (Kafka, schema registry, FerretDB). Run by `npm test` after the stack is up.
const preset = require('./jest.preset.js');
const { compilerOptions } = require('./tsconfig.base.json');

module.exports = {
  ...preset,
  displayName: 'integration',
  rootDir: '.',
  testMatch: ['<rootDir>/{apps,libs}/*/src/**/*.integration-spec.ts'],
  modulePathIgnorePatterns: ['<rootDir>/.nx', '<rootDir>/dist'],
  // Jest's own resolver: the aliases are mapped below, and Nx's one prints "Cannot locate a
  // tsconfig.spec.json" for every optional module a dependency probes for (the driver's, e.g.).
  resolver: undefined,
  // Path aliases from tsconfig.base.json (@cdp/<lib> -> libs/<lib>/src/index.ts).
  moduleNameMapper: Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
  ),
  testTimeout: 120_000,
  maxWorkers: 1,
  // A failed start can leave a client or child process open; never let that hang CI.
  forceExit: true,
  // Each test scope's database is dropped once the run is over.
  globalSetup: '<rootDir>/scripts/integration-setup.cjs',
  globalTeardown: '<rootDir>/scripts/integration-teardown.cjs',
};
