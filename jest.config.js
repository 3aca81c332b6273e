/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  testTimeout: 30000,
  setupFilesAfterEnv: ['<rootDir>/test/contract-setup.ts'],
  // The CLI and bridge processes that tests spawn run dist/: built here when stale.
  globalSetup: '<rootDir>/test/global-setup.js',
};
