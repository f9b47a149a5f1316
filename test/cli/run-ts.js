// SPDX-License-Identifier: MIT
// Test helper: runs a TypeScript entry file (`node run-ts.js lib/cli/main.ts ...args`) by transpiling each .ts file on require.
// Type checking is left to ts-jest and tsc; this only lets a child process run lib/ without a dist/ build.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

// Transpiled files are kept on disk by a hash of their path and source: every child process of the CLI tests (and each
// worker that `serve --workers` forks) would otherwise transpile all of lib/ again, seconds each on a busy machine.
const cacheDir = path.join(os.tmpdir(), `simdnet-run-ts-${process.getuid ? process.getuid() : 'user'}`);
// The compiler's version is part of the key; loading the compiler itself is what the cache avoids.
const compilerVersion = require('typescript/package.json').version;
let typescript;

function transpile(source, filename) {
  typescript ??= require('typescript');
  const ts = typescript;
  return ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
}

function cached(source, filename) {
  const key = crypto.createHash('sha256').update(`${compilerVersion}\0${filename}\0`).update(source).digest('hex');
  const file = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    const output = transpile(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`; // written whole, then renamed: readers never see half a file
      fs.writeFileSync(tmp, output);
      fs.renameSync(tmp, file);
    } catch {
      // An unwritable cache only costs the transpiling.
    }
    return output;
  }
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(cached(fs.readFileSync(filename, 'utf8'), filename), filename);
};

// Preloaded (`node -r run-ts.js lib/cli/main.ts ...`) it only registers .ts: node then runs the entry itself, and so do
// processes forked from it by node:cluster (`simdnet serve --workers`), which inherit the -r flag.
if (require.main === module) {
  const entry = path.resolve(process.argv[2]);
  process.argv.splice(1, 2, entry); // the entry sees itself as argv[1], as when run directly
  require(entry);
}
