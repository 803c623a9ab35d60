// Jest globalSetup of the integration tier: a file where each test scope notes its database
// (libs/testing testScope), for the global teardown to drop. Workers inherit the variable.
const { writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const file = join(tmpdir(), `cdp-test-databases-${process.pid}-${Date.now()}.txt`);
  writeFileSync(file, '');
  process.env.CDP_TEST_DATABASES_FILE = file;
};
