#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Bundles the browser entry lib/browser.ts with esbuild into build-wasm/simdnet.browser.js (ESM), beside
// simdnet.wasm and simdnet-threads-web.* (npm run build:wasm first). Imports of lib/native.ts become
// lib/backend/native-browser.ts, and './wasm-glue' and './wasm-glue-threads' become Emscripten's glue of the
// one-thread and the threaded browser build. platform "browser": a Node built-in anywhere fails the build.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build-wasm');
const glues = {
  './wasm-glue': path.join(out, 'simdnet.js'),
  './wasm-glue-threads': path.join(out, 'simdnet-threads-web.js'),
};

const browserBackend = {
  name: 'simdnet-browser-backend',
  setup(build) {
    build.onResolve({ filter: /^\.\/wasm-glue(-threads)?$/ }, (args) => ({ path: glues[args.path] }));
    build.onResolve({ filter: /(^|\/)native$/ }, (args) => {
      if (path.resolve(args.resolveDir, args.path) !== path.join(root, 'lib', 'native')) return undefined;
      return { path: path.join(root, 'lib', 'backend', 'native-browser.ts') };
    });
  },
};

async function main() {
  for (const glue of Object.values(glues)) {
    if (!fs.existsSync(glue)) throw new Error(`${glue} is missing: run npm run build:wasm first`);
  }
  await esbuild.build({
    entryPoints: [path.join(root, 'lib', 'browser.ts')],
    outfile: path.join(out, 'simdnet.browser.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [browserBackend],
  });
  console.log('wrote build-wasm/simdnet.browser.js');
}

main().catch((err) => {
  console.error(`build-browser: ${err.message}`);
  process.exit(1);
});
