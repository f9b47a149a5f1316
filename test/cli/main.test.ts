// SPDX-License-Identifier: MIT
// Runs the real `simdnet` entry (lib/cli/main.ts, transpiled on the fly) as a child process: exit codes, one-line errors, Ctrl+C.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { packageVersion } from '../../lib/cli/info';
import { writeTinyCifar10 } from './cifar-fixture';
import { tempDir } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const runner = [path.join(__dirname, 'run-ts.js'), path.join(root, 'lib', 'cli', 'main.ts')];
let dir: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-main-');
  writeTinyCifar10(path.join(dir, 'cifar-10-batches-bin'), 4, 4);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [...runner, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SIMDNET_DEBUG: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('main.ts starts with a shebang', () => {
  expect(fs.readFileSync(path.join(root, 'lib', 'cli', 'main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(
    true,
  );
});

test('--version exits 0; a bad value exits 2 with one line on stderr', () => {
  expect(run(['--version'])).toEqual({ code: 0, stdout: `${packageVersion()}\n`, stderr: '' });
  const bad = run(['train', '--data', '.', '--epochs', '0']);
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toBe("error: option '--epochs <n>' argument '0' is invalid. expected an integer >= 1.\n");
});

test('Ctrl+C (SIGINT) stops training after the current batch, saves the weights and exits 130', async () => {
  const out = path.join(dir, 'm.safetensors');
  const child = spawn(
    process.execPath,
    [...runner, 'train', '--data', dir, '--epochs', '100000', '--batch-size', '4', '--progress', 'none', '--out', out],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    stdout += d;
    if (!sent && /epoch +1\/100000/.test(stdout)) {
      sent = true; // once: a second Ctrl+C means "quit now"
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(stderr).toContain('interrupted: stopping after the current batch');
  expect(code).toBe(130);
  expect(stdout).toMatch(/stopped (before|in) epoch \d+.*; saved the weights to /);
  expect(readSafetensors(out).metadata['simdnet.arch']).toBe('LeNet');
}, 60_000);
