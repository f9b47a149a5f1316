// SPDX-License-Identifier: MIT
// Test helper: runs a TypeScript entry file (`node run-ts.js lib/cli/main.ts ...args`) by transpiling each .ts file on require.
// Type checking is left to ts-jest and tsc; this only lets a child process run lib/ without a dist/ build.
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};

// Preloaded (`node -r run-ts.js lib/cli/main.ts ...`) it only registers .ts: node then runs the entry itself, and so do
// processes forked from it by node:cluster (`simdnet serve --workers`), which inherit the -r flag.
if (require.main === module) {
  const entry = path.resolve(process.argv[2]);
  process.argv.splice(1, 2, entry); // the entry sees itself as argv[1], as when run directly
  require(entry);
}
