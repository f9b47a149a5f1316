// SPDX-License-Identifier: MIT
// Repo paths for the bench, and the addon location: run.ts imports this first, before anything loads simdnet.
//
// The bench compiles lib/ itself into build/bench/lib, where lib/native.ts would look for the addon in
// build/bench/build/Release; SIMDNET_ADDON_PATH points it at the repo's build/Release instead.
import * as fs from 'fs';
import * as path from 'path';

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'simdnet') return dir;
    if (path.dirname(dir) === dir) throw new Error(`bench: no simdnet package.json above ${start}`);
  }
}

export const repoRoot = findRepoRoot(__dirname);
export const benchDir = path.join(repoRoot, 'bench');
export const buildDir = path.join(repoRoot, 'build', 'bench');

if (!process.env.SIMDNET_ADDON_PATH) {
  const release = path.join(repoRoot, 'build', 'Release', 'simdnet.node');
  const debug = path.join(repoRoot, 'build', 'Debug', 'simdnet.node');
  process.env.SIMDNET_ADDON_PATH = fs.existsSync(release) || !fs.existsSync(debug) ? release : debug;
}

// The WebAssembly build (simdnet-wasm cases), likewise outside build/bench.
process.env.SIMDNET_WASM_DIR ||= path.join(repoRoot, 'build-wasm');

/** Version of an installed package, or null when it is not installed. */
export function packageVersion(name: string): string | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}
