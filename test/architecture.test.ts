// SPDX-License-Identifier: MIT
// The layering rules of docs/architecture.md, checked on the source tree: library code never imports the CLI, only
// lib/native.ts (and lib/backend/) loads a .node file, and only native/binding* includes napi.h.
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** Every file under `dir` (relative to ROOT) whose name ends in one of `exts`, as paths relative to ROOT. */
function files(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else if (exts.some((x) => e.name.endsWith(x))) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** The module specifiers a TypeScript source imports, re-exports, requires or imports dynamically. */
export function importedSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

/** Whether a source loads a native addon itself: a .node path, process.dlopen, node-gyp-build or bindings. */
export function loadsAddon(source: string): boolean {
  return /\.node['"`]|\bdlopen\b|node-gyp-build|\brequire\s*\(\s*['"]bindings['"]/.test(source);
}

/** Whether a C++ source includes the N-API headers. */
export function includesNapi(source: string): boolean {
  return /#\s*include\s*[<"](napi\.h|node_api\.h)[>"]/.test(source);
}

/** The application layers on top of the library: the command line and the HTTP server it starts. */
const TOP_LAYERS = ['lib/cli', 'lib/serve'];
const inTopLayer = (file: string) => TOP_LAYERS.some((dir) => file === dir || file.startsWith(`${dir}/`));

/** Whether a file's relative import reaches a top layer. */
function isCli(fromFile: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  return inTopLayer(path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier)));
}

test('library code (lib/ outside lib/cli/ and lib/serve/) never imports them', () => {
  const offenders = files('lib', ['.ts'])
    .filter((f) => !inTopLayer(f))
    .flatMap((f) =>
      importedSpecifiers(fs.readFileSync(path.join(ROOT, f), 'utf8'))
        .filter((s) => isCli(f, s))
        .map((s) => `${f} imports ${s}`),
    );
  expect(offenders).toEqual([]);
});

test('only lib/native.ts (and lib/backend/) loads a .node file', () => {
  const offenders = files('lib', ['.ts']).filter(
    (f) =>
      f !== 'lib/native.ts' && !f.startsWith('lib/backend/') && loadsAddon(fs.readFileSync(path.join(ROOT, f), 'utf8')),
  );
  expect(offenders).toEqual([]);
  expect(loadsAddon(fs.readFileSync(path.join(ROOT, 'lib/native.ts'), 'utf8'))).toBe(true);
});

test("only native/binding* (and the wasm build's napi shim, which implements it) includes napi.h", () => {
  const sources = files('native', ['.cc', '.cpp', '.h', '.hpp', '.inc']);
  const including = sources.filter((f) => includesNapi(fs.readFileSync(path.join(ROOT, f), 'utf8')));
  expect(including.filter((f) => !/^native\/(binding[^/]*|wasm\/napi_shim\.cc)$/.test(f))).toEqual([]);
  expect(including.length).toBeGreaterThan(0);
});

test('the checks catch what they look for (so the rules above can fail)', () => {
  expect(
    importedSpecifiers(`import { x } from '../cli/io';\nexport * from "./a";\nconst m = await import('../cli/b');`),
  ).toEqual(['../cli/io', './a', '../cli/b']);
  expect(importedSpecifiers(`import type {\n  A,\n  B,\n} from '../cli/types';\nrequire('../cli/c')`)).toEqual([
    '../cli/types',
    '../cli/c',
  ]);
  expect(isCli('lib/plot/command.ts', '../cli/io')).toBe(true);
  expect(isCli('lib/index.ts', './cli/image')).toBe(true);
  expect(isCli('lib/data/image.ts', './image-preprocess')).toBe(false);
  expect(isCli('lib/io/x.ts', 'commander')).toBe(false);
  expect(loadsAddon(`require(path.join(root, 'build', 'simdnet.node'))`)).toBe(true);
  expect(loadsAddon(`process.dlopen(module, file)`)).toBe(true);
  expect(loadsAddon(`const b = require('node-gyp-build')(dir)`)).toBe(true);
  expect(loadsAddon(`const name = ctx.node.output?.[0];`)).toBe(false);
  expect(includesNapi('#include <napi.h>')).toBe(true);
  expect(includesNapi('#include "node_api.h"')).toBe(true);
  expect(includesNapi('#include "binding_checks.h"')).toBe(false);
});
