// The integration tier: *.integration-spec.ts against the real local stack
// (Kafka, schema registry, FerretDB). Run by `npm test` after the stack is up.
const preset = require('./jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'integration',
  rootDir: '.',
  testMatch: ['<rootDir>/{apps,libs}/*/src/**/*.integration-spec.ts'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
