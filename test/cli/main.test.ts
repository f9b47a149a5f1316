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

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during training', (signal) => {
  test('stops after the current batch, leaves an existing --out unchanged, saves the run to resume, exits 130', async () => {
    const out = path.join(dir, `${signal}.safetensors`);
    const finished = Buffer.from('a finished model, trained for hours');
    fs.writeFileSync(out, finished);
    const args = ['train', '--data', dir, '--epochs', '100000', '--batch-size', '4', '--progress', 'none'];
    const child = spawn(process.execPath, [...runner, ...args, '--out', out, '--force'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      // After a line the child prints once it is training (no timing assumption); once: a second signal quits at once.
      if (!sent && /epoch +1\/100000/.test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toContain(`${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: stopping after the current batch`);
    expect(code).toBe(130);
    expect(fs.readFileSync(out)).toEqual(finished);
    expect(stdout).toMatch(/stopped (before|in) epoch \d+.*; \S+ not written \(the run did not finish\)/);
    const partial = path.join(dir, `${signal}.partial.safetensors`);
    expect(readSafetensors(partial).metadata['simdnet.arch']).toBe('LeNet');
    const ck = path.join(dir, `${signal}.checkpoint`);
    expect(stdout).toContain(`resume with: simdnet train --data ${dir} --epochs 100000 --batch-size 4 --lr 0.001`);
    expect(stdout).toContain(`--out ${out} --force --checkpoint ${ck} --resume\n`);
    expect(fs.existsSync(path.join(ck, 'checkpoint.safetensors'))).toBe(true);
  });
});
