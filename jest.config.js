/**
 * Two projects:
 *  - unit: pure core, CDK Template/cdk-nag assertions and fault paths with aws-sdk-client-mock.
 *  - integration: real handlers and the real CLI against moto server, started by the global setup
 *    (or against AWS_ENDPOINT_URL / real credentials when DDB_BACKUP_E2E=1, see `npm run e2e`).
 */
const transform = { '^.+\\.tsx?$': ['@swc/jest'] };
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
};

module.exports = {
  // Two workers even on 2 cores: the integration tests wait on moto (a process of its own) more
  // than they compute, and the fleet test runs beside the rest on a moto server of its own.
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/support/sequencer.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/support/moto-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/moto-global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts', '<rootDir>/test/support/int-setup.ts'],
    },
  ],
};
