// Jest runs our TypeScript ESM sources directly: SWC strips types, Node's VM modules load ESM
// (aedes 1.x is ESM-only). Relative imports are written with `.js` as Node ESM requires; the
// moduleNameMapper lets jest resolve them to the `.ts` files.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
};
