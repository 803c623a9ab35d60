// Jest globalSetup of the integration tier: a file where each test scope notes its id
// (libs/testing testScope), for the global teardown to clean up. Workers inherit the variable.
const { writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const file = join(tmpdir(), `cdp-test-scopes-${process.pid}-${Date.now()}.txt`);
  writeFileSync(file, '');
  process.env.CDP_TEST_SCOPES_FILE = file;
};
