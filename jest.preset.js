const nxPreset = require('@nx/jest/preset').default;
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// One SWC config for every project: fast transpiling with decorator metadata (NestJS DI).
const swc = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
delete swc.$schema;

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Unit tier only; *.integration-spec.ts runs against the real stack (jest.integration.config.cjs).
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
