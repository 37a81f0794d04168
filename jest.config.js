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
