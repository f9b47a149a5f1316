// SPDX-License-Identifier: MIT
// The README's example as a new user's project would take it: the ```ts block under "## Use" copied into a fresh CommonJS
// project that depends on the built package (dist/), compiled by tsc with strict settings (noUnusedLocals and friends),
// then run on a tiny generated CIFAR-10 folder (so nothing is downloaded). The ```ts blocks of docs/training.md compile too.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadModel } from '../../lib/train/saved-model';
import { writeTinyCifar10 } from '../cli/cifar-fixture';
import { tempDir } from '../cli/helpers';

const root = path.resolve(__dirname, '..', '..');
let project: string;

/** The first ```ts block after the "## Use" heading of README.md. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const use = readme.indexOf('\n## Use\n');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(use));
  if (use < 0 || block === null) throw new Error('README.md has no ```ts block under "## Use"');
  return block[1];
}

/** Every ```ts block of a Markdown file. */
function tsBlocks(file: string): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Compiles `files` of the project with these compiler options; returns tsc's output ('' when it compiles). */
function tsc(options: Record<string, unknown>, files = ['index.ts']): string {
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files }, null, 2));
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
    encoding: 'utf8',
  });
  return `${r.stdout}${r.stderr}`.trim();
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'index.d.ts'))) throw new Error('dist/ is missing: run npm run build:ts');
  project = tempDir('simdnet-readme-');
  // A CommonJS project (no "type": "module"), simdnet installed as a link to this checkout's built package.
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'readme-example', version: '1.0.0', private: true }),
  );
  fs.mkdirSync(path.join(project, 'node_modules'));
  fs.symlinkSync(root, path.join(project, 'node_modules', 'simdnet'), 'dir');
  fs.symlinkSync(path.join(root, 'node_modules', '@types'), path.join(project, 'node_modules', '@types'), 'dir');
  fs.writeFileSync(path.join(project, 'index.ts'), readmeExample());
  writeTinyCifar10(path.join(project, 'data', 'cifar-10-batches-bin'), 8, 20);
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

const strict = {
  target: 'ES2022',
  module: 'commonjs',
  strict: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  noImplicitReturns: true,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
};

test('the README example compiles in a new CommonJS project with strict settings, also the strictest ones', () => {
  expect(tsc(strict)).toBe('');
  expect(tsc({ ...strict, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true })).toBe('');
});

test('every ts block of docs/training.md compiles in the same project', () => {
  const blocks = tsBlocks(path.join(root, 'docs', 'training.md'));
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  const files = blocks.map((code, i) => {
    // Each block is a file of its own (a module: it imports), as a user would paste it.
    fs.writeFileSync(path.join(project, `training-${i}.ts`), code);
    return `training-${i}.ts`;
  });
  expect(tsc({ ...strict, noEmit: true }, files)).toBe('');
});

test('the compiled example trains, prints the test accuracy and saves a model loadModel rebuilds', () => {
  expect(tsc(strict)).toBe('');
  // An unreachable URL: if the example tried to download, it would fail rather than reach the network.
  const stdout = execFileSync(process.execPath, ['index.js'], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, SIMDNET_CIFAR10_URL: 'http://127.0.0.1:9/none.tar.gz' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(stdout).toMatch(/^test accuracy \d+\.\d{2}%\n$/);
  const model = loadModel(path.join(project, 'lenet.safetensors'));
  expect(model.constructor.name).toBe('LeNet');
});
