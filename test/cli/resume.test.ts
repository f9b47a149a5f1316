// SPDX-License-Identifier: MIT
// `simdnet train --checkpoint DIR [--checkpoint-every N] [--resume]`: stop + resume, and a real SIGKILL of a child
// process + resume, both bit-identical to an uninterrupted run; settings mismatches and flag errors.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { readCheckpoint } from '../../lib/train/checkpoint';
import { writeTinyCifar10 } from './cifar-fixture';
import { cli, quietTrain, tempDir } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const runner = [path.join(__dirname, 'run-ts.js'), path.join(root, 'lib', 'cli', 'main.ts')];

let dir: string;
let data: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-resume-');
  data = path.join(dir, 'data');
  // 40 training images (8 per file), 4 test images.
  writeTinyCifar10(path.join(data, 'cifar-10-batches-bin'), 8, 4);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The weight tensors of a weights file, as exact bytes. */
function tensorsOf(file: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(readSafetensors(file).tensors))
    out[k] = Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
  return out;
}

function trainArgs(extra: string[]): string[] {
  return ['train', '--data', data, '--epochs', '2', '--batch-size', '8', '--progress', 'none', ...extra];
}

// resnet20 trains with SGD and momentum: its buffers are in the checkpoint too.
const RECIPE_LR: Record<string, number> = { lenet: 1e-3, 'lenet-bn': 2e-3, resnet20: 0.1 };
for (const recipe of Object.keys(RECIPE_LR)) {
  test(`${recipe}: 2 epochs straight == 1 epoch, Ctrl+C, --resume for the 2nd (bit-identical weights)`, async () => {
    const sub = path.join(dir, recipe);
    fs.mkdirSync(sub);
    const args = (out: string, ck: string) =>
      trainArgs([
        '--recipe',
        recipe,
        '--epochs',
        '2',
        '--out',
        path.join(sub, out),
        '--checkpoint',
        path.join(sub, ck),
      ]);

    const straight = await cli(args('straight.safetensors', 'ck-straight'));
    expect(straight.stderr).toBe('');
    expect(straight.code).toBe(0);
    expect(readCheckpoint(path.join(sub, 'ck-straight', 'checkpoint.safetensors')).meta.position).toEqual({
      epoch: 3,
      batch: 0,
    });

    // Stop after epoch 1 (as Ctrl+C would): the checkpoint is at the start of epoch 2.
    const controller = new AbortController();
    const first = await cli(args('resumed.safetensors', 'ck'), {
      signal: controller.signal,
      onStdoutLine: (l) => {
        if (/^epoch 1\/2 /.test(l)) controller.abort();
      },
    });
    expect(first.code).toBe(130);
    expect(first.stdout).toContain('stopped before epoch 2');
    const ck = readCheckpoint(path.join(sub, 'ck', 'checkpoint.safetensors'));
    expect(ck.meta.position).toEqual({ epoch: 2, batch: 0 });
    expect(ck.meta.history).toHaveLength(1);
    expect(ck.meta.optimizer.type).toBe(recipe === 'resnet20' ? 'SGD' : recipe === 'lenet' ? 'Adam' : 'AdamW');
    expect(ck.meta.settings).toEqual({
      dataset: 'cifar10',
      recipe,
      seed: 0,
      batchSize: 8,
      epochs: 2,
      lr: RECIPE_LR[recipe],
      limit: null,
    });

    const resumed = await cli([...args('resumed.safetensors', 'ck'), '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain(`resumed from ${path.join(sub, 'ck', 'checkpoint.safetensors')} at epoch 2, batch 0`);
    expect(resumed.out.filter((l) => l.startsWith('epoch '))).toHaveLength(1);
    expect(tensorsOf(path.join(sub, 'resumed.safetensors'))).toEqual(tensorsOf(path.join(sub, 'straight.safetensors')));
    // The history in the weights file covers both epochs, with the same training numbers.
    const hist = (f: string) =>
      JSON.parse(readSafetensors(path.join(sub, f)).metadata['simdnet.history']).map((r: Record<string, number>) => [
        r.epoch,
        r.trainLoss,
        r.trainAccuracy,
        r.testLoss,
      ]);
    expect(hist('resumed.safetensors')).toEqual(hist('straight.safetensors'));
  });
}

test('--resume refuses other settings, naming each mismatch; flag errors exit 2', async () => {
  const ck = path.join(dir, 'ck-mismatch');
  const out = path.join(dir, 'mismatch.safetensors');
  // Ctrl+C just before training starts: the checkpoint holds the initial state.
  const controller = new AbortController();
  const first = await cli(trainArgs(['--out', out, '--checkpoint', ck]), {
    signal: controller.signal,
    onStdoutLine: (l) => l.startsWith('model: ') && controller.abort(),
  });
  expect(first.code).toBe(130);
  expect(readCheckpoint(path.join(ck, 'checkpoint.safetensors')).meta.position).toEqual({ epoch: 1, batch: 0 });

  const seeded = await cli(trainArgs(['--out', out, '--checkpoint', ck, '--resume', '--seed', '1', '--lr', '0.01']));
  expect(seeded.code).toBe(2);
  expect(seeded.err).toEqual([
    `error: --resume: ${ck} holds a run with other settings (--seed was 0, now 1; --lr was 0.001, now 0.01); run with the same settings, or use another --checkpoint folder`,
  ]);
  const recipe = await cli(
    trainArgs([
      '--out',
      out,
      '--checkpoint',
      ck,
      '--resume',
      '--recipe',
      'lenet-bn',
      '--epochs',
      '2',
      '--lr',
      '0.001',
      '--batch-size',
      '8',
    ]),
  );
  expect(recipe.code).toBe(2);
  expect(recipe.stderr).toContain('--recipe was lenet, now lenet-bn');

  const exists = await cli(trainArgs(['--out', out, '--checkpoint', ck]));
  expect(exists.code).toBe(2);
  expect(exists.stderr).toContain('already holds a checkpoint; pass --resume');
  const none = await cli(trainArgs(['--out', out, '--checkpoint', path.join(dir, 'empty-ck'), '--resume']));
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('holds no checkpoint');
  expect((await cli(trainArgs(['--out', out, '--checkpoint-every', '3']))).stderr).toBe(
    'error: --checkpoint-every needs --checkpoint DIR\n',
  );
  expect((await cli(trainArgs(['--out', out, '--resume']))).stderr).toBe('error: --resume needs --checkpoint DIR\n');
});

test('--epochs may grow on --resume (a finished run goes on, bit-identical to a longer run), not with a cosine schedule', async () => {
  const sub = path.join(dir, 'extend');
  fs.mkdirSync(sub);
  const run = (epochs: number, out: string, ck: string, extra: string[] = []) =>
    cli(
      trainArgs([
        '--epochs',
        String(epochs),
        '--out',
        path.join(sub, out),
        '--checkpoint',
        path.join(sub, ck),
        ...extra,
      ]),
    );
  expect((await run(3, 'straight.safetensors', 'ck-straight')).code).toBe(0);
  expect((await run(1, 'one.safetensors', 'ck')).code).toBe(0);
  const extended = await run(3, 'three.safetensors', 'ck', ['--resume']);
  expect(extended.stderr).toBe('');
  expect(extended.code).toBe(0);
  expect(extended.out).toContain('extending the run from 1 to 3 epochs');
  expect(extended.out.filter((l) => l.startsWith('epoch '))).toHaveLength(2);
  expect(tensorsOf(path.join(sub, 'three.safetensors'))).toEqual(tensorsOf(path.join(sub, 'straight.safetensors')));
  expect(readCheckpoint(path.join(sub, 'ck', 'checkpoint.safetensors')).meta.settings.epochs).toBe(3);

  const fewer = await run(2, 'two.safetensors', 'ck', ['--resume']);
  expect(fewer.code).toBe(2);
  expect(fewer.err).toEqual([
    `error: --epochs 2: the run in ${path.join(sub, 'ck')} has finished 3 epochs; pass --epochs 3 or more`,
  ]);
  expect((await run(1, 'bn.safetensors', 'ck-bn', ['--recipe', 'lenet-bn'])).code).toBe(0);
  const cosine = await run(2, 'bn2.safetensors', 'ck-bn', ['--recipe', 'lenet-bn', '--resume']);
  expect(cosine.code).toBe(2);
  expect(cosine.err[0]).toMatch(
    /anneals its learning rate \(cosine schedule\) over 1 epochs, so it cannot be extended/,
  );
});

test("--resume of a folder holding only a killed write's temp file says there is no checkpoint; a new run there starts", async () => {
  const ck = path.join(dir, 'ck-temp-only');
  fs.mkdirSync(ck);
  fs.writeFileSync(path.join(ck, '.checkpoint.safetensors.4242.0123456789ab.tmp'), 'half a checkpoint');
  const out = path.join(dir, 'temp-only.safetensors');
  const refused = await cli(trainArgs(['--out', out, '--checkpoint', ck, '--resume']));
  expect(refused.code).toBe(2);
  expect(refused.err).toEqual([`error: --resume: ${ck} holds no checkpoint (checkpoint.safetensors)`]);
  const fresh = await cli(trainArgs(['--out', out, '--checkpoint', ck, '--epochs', '1']));
  expect(fresh.code).toBe(0);
  expect(readCheckpoint(path.join(ck, 'checkpoint.safetensors')).meta.position).toEqual({ epoch: 2, batch: 0 });
});

test('a real SIGKILL after a checkpoint, then --resume == uninterrupted (bit-identical), wherever the kill lands', async () => {
  const sub = path.join(dir, 'kill');
  fs.mkdirSync(sub);
  // 40 images, batch 4: 10 steps per epoch, a checkpoint after every step. The killed run is set for 1000 epochs, so it is
  // still running however late the kill lands; the resume then finishes it at the epoch after the kill's.
  const args = (out: string, ck: string, epochs: number) =>
    quietTrain(
      data,
      path.join(sub, out),
      '--epochs',
      String(epochs),
      '--batch-size',
      '4',
      '--checkpoint',
      path.join(sub, ck),
      '--checkpoint-every',
      '1',
    );
  const ckFile = path.join(sub, 'ck', 'checkpoint.safetensors');
  const child = spawn(process.execPath, [...runner, ...args('killed.safetensors', 'ck', 1000)], {
    cwd: sub,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const poll = setInterval(() => {
    if (fs.existsSync(ckFile)) {
      clearInterval(poll);
      child.kill('SIGKILL');
    }
  }, 1);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearInterval(poll);
  expect(stderr).toBe('');
  expect(signal).toBe('SIGKILL');
  expect(code).toBeNull();
  expect(fs.existsSync(path.join(sub, 'killed.safetensors'))).toBe(false); // it never got to save the weights
  const at = readCheckpoint(ckFile).meta.position; // loadable, whatever moment the kill hit
  const epochs = at.epoch + 1;

  const resumed = spawnSync(process.execPath, [...runner, ...args('killed.safetensors', 'ck', epochs), '--resume'], {
    cwd: sub,
    encoding: 'utf8',
    env: { ...process.env, SIMDNET_DEBUG: '' },
  });
  expect(resumed.stderr).toBe('');
  expect(resumed.status).toBe(0);
  expect(resumed.stdout).toContain(`resumed from ${ckFile} at epoch ${at.epoch}, batch ${at.batch}`);
  const straight = await cli(args('straight.safetensors', 'ck-straight', epochs));
  expect(straight.code).toBe(0);
  expect(tensorsOf(path.join(sub, 'killed.safetensors'))).toEqual(tensorsOf(path.join(sub, 'straight.safetensors')));
}, 300_000);
