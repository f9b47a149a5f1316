// SPDX-License-Identifier: MIT
// Where no prebuild fits, the packed tarball's install script compiles the addon (forced here with
// --build-from-source; test/package/pack-install.sh covers the prebuilds), and it loads from CJS, ESM and the CLI.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let project = '';

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  // `npm test` builds dist/ first (pretest), so the tarball holds the current code.
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build:ts');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-pack-'));
  const packed = JSON.parse(run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root));
  const tarball = path.join(tmp, packed[0].filename);
  project = path.join(tmp, 'consumer');
  fs.mkdirSync(project);
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  // The install script (node-gyp-build) compiles the addon from the packed sources: no prebuild may be used.
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--build-from-source', tarball], project);
}, 600_000);

test('the tarball ships sources and compiled TypeScript, not build output', () => {
  const pkg = path.join(project, 'node_modules', 'simdnet');
  expect(fs.existsSync(path.join(pkg, 'native', 'binding.cc'))).toBe(true);
  expect(fs.existsSync(path.join(pkg, 'dist', 'index.d.ts'))).toBe(true);
  expect(fs.existsSync(path.join(pkg, 'lib'))).toBe(false);
  expect(fs.existsSync(path.join(pkg, 'build', 'Release', 'simdnet.node'))).toBe(true);
});

test('LeNet loads from CommonJS and from ESM', () => {
  const cjs = run(
    'node',
    ['-e', "const { LeNet } = require('simdnet'); console.log(new LeNet().numParameters())"],
    project,
  );
  expect(cjs.trim()).toBe('62006');
  const esm = run(
    'node',
    [
      '--input-type=module',
      '-e',
      "import { LeNet, Tensor, fit, CIFAR10 } from 'simdnet'; const y = new LeNet().forward(new Tensor(new Float32Array(3072), [1, 3, 32, 32])); console.log(y.shape.join('x'), typeof fit, typeof CIFAR10)",
    ],
    project,
  );
  expect(esm.trim()).toBe('1x10 function function'); // names re-exported with export * reach ESM too
});

test('the simdnet command runs', () => {
  const out = run(path.join(project, 'node_modules', '.bin', 'simdnet'), ['--version'], project);
  expect(out.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
});

test('a missing addon: the packed WebAssembly build takes over; without it, an error says how to build', () => {
  const pkg = path.join(project, 'node_modules', 'simdnet');
  for (const dir of ['build', 'prebuilds']) fs.rmSync(path.join(pkg, dir), { recursive: true, force: true });
  // build-wasm/ is packed when it was built (npm run build:wasm) before packing.
  if (fs.existsSync(path.join(pkg, 'build-wasm', 'simdnet.wasm'))) {
    const backend = run('node', ['-e', "console.log(require('simdnet').native.kernelInfo().backend)"], project);
    expect(backend.trim()).toBe('wasm');
    fs.rmSync(path.join(pkg, 'build-wasm'), { recursive: true, force: true });
  }
  let message = '';
  try {
    run('node', ['-e', "require('simdnet')"], project);
  } catch (err) {
    message = String((err as { stderr?: string }).stderr);
  }
  expect(message).toContain('native addon could not be loaded');
  expect(message).toContain('npm rebuild simdnet');
  expect(message).toContain('The WebAssembly fallback did not load either');
});

afterAll(() => {
  if (project) fs.rmSync(path.dirname(project), { recursive: true, force: true });
});
