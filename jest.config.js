// SPDX-License-Identifier: MIT
// Jest runs the TypeScript tests straight from lib/ through ts-jest; the addon comes from build/.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  // A guard against hangs, not a speed requirement: CI machines are shared, and a child-process test that takes 40 s on
  // an idle machine can take minutes on a busy one.
  testTimeout: 300_000,
};
