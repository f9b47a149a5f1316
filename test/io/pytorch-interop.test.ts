// SPDX-License-Identifier: MIT
// State dicts move between PyTorch and simdnet through the official safetensors library, both ways:
// files PyTorch wrote (test/fixtures/interop/, made by interop.py) load here and give PyTorch's logits,
// and files simdnet writes load into PyTorch with strict=True and give simdnet's logits (live, via python).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { readSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { LeakyReLU } from '../../lib/modules/leaky-relu';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Tanh } from '../../lib/modules/tanh';
import { Adam } from '../../lib/optim/adam';
import { Generator, manualSeed } from '../../lib/random';
import { expectAllClose, randomTensor } from '../helpers';
import { findTorchPython, runPython } from './torch-python';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const INTEROP = path.join(FIXTURES, 'interop');
const SCRIPT = path.join(FIXTURES, 'interop.py');

/** The same chain as interop.py's sequential(): every layer kind that has a PyTorch state-dict twin. */
function sequential(): Sequential {
  return new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 }),
    new BatchNorm2d({ numFeatures: 8 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 2, dilation: 2, groups: 2, bias: false }),
    new LeakyReLU({ negativeSlope: 0.1 }),
    new AvgPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 128, outFeatures: 32 }),
    new BatchNorm1d({ numFeatures: 32 }),
    new Tanh(),
    new Dropout({ p: 0.25 }),
    new Linear({ inFeatures: 32, outFeatures: 5 }),
  );
}

/** name (as in interop.py) -> simdnet model, one batch's input shape, number of classes. */
const MODELS: [string, () => Module, number[], number][] = [
  ['lenet', () => new LeNet(), [4, 3, 32, 32], 10],
  ['lenetbn', () => new LeNetBN(), [4, 3, 32, 32], 10],
  ['sequential', sequential, [4, 3, 16, 16], 5],
];

// Float32 logits of two implementations summing in different orders.
const ATOL = 1e-5;
const RTOL = 1e-5;

/** The dtype of each tensor in a safetensors header, read straight from the bytes. */
function headerDtypes(file: string): Record<string, string> {
  const bytes = fs.readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
  delete header.__metadata__;
  return Object.fromEntries(Object.entries(header).map(([k, v]) => [k, (v as { dtype: string }).dtype]));
}

describe('PyTorch -> simdnet: state dicts saved by safetensors.torch.save_file', () => {
  const expected = readSafetensors(path.join(INTEROP, 'expected.safetensors')).tensors;

  test.each(MODELS)("%s: strict load, then eval-mode logits equal PyTorch's", (name, build) => {
    const file = path.join(INTEROP, `${name}_torch.safetensors`);
    const model = build();
    model.loadStateDict(readSafetensors(file).tensors); // strict: every name and shape must match
    model.eval();
    const input = expected[`${name}.input`];
    expectAllClose(model.predict(input).data, expected[`${name}.logits`].data, ATOL, RTOL, `${name} logits`);
    expectAllClose(model.forward(input).data, expected[`${name}.logits`].data, ATOL, RTOL, `${name} forward logits`);
  });

  test("the files are PyTorch's own: BatchNorm counters are I64, and every state-dict entry is there", () => {
    const dtypes = headerDtypes(path.join(INTEROP, 'lenetbn_torch.safetensors'));
    expect(dtypes['bn1.num_batches_tracked']).toBe('I64');
    expect(Object.keys(dtypes).sort()).toEqual(Object.keys(new LeNetBN().stateDict()).sort());
    const trained = readSafetensors(path.join(INTEROP, 'lenetbn_torch.safetensors')).tensors;
    expect(trained['bn1.num_batches_tracked'].data[0]).toBe(5); // interop.py's 5 training steps
  });
});

const torch = findTorchPython();
if ('missing' in torch && process.env.CI) throw new Error(`CI must run the PyTorch interop test: ${torch.missing}`);
if ('missing' in torch) console.warn(`skipping simdnet -> PyTorch interop: ${torch.missing}`);
const describeLive = 'python' in torch ? describe : describe.skip;

describeLive('simdnet -> PyTorch: load_state_dict(strict=True) of files simdnet wrote', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-interop-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(MODELS)(
    "%s: PyTorch's eval-mode logits equal simdnet's after simdnet trained it",
    (name, build, shape, classes) => {
      manualSeed(7);
      const model = build();
      trainALittle(model, shape, classes);
      model.eval();
      const input = randomTensor(shape, 11, 2);
      const weights = path.join(dir, `${name}.safetensors`);
      const inputs = path.join(dir, `${name}-input.safetensors`);
      const out = path.join(dir, `${name}-logits.safetensors`);
      saveSafetensors(weights, model.stateDict());
      saveSafetensors(inputs, { input });
      runPython((torch as { python: string }).python, [SCRIPT, 'logits', name, weights, inputs, out]);
      expectAllClose(
        readSafetensors(out).tensors.logits.data,
        model.predict(input).data,
        ATOL,
        RTOL,
        `${name} logits in PyTorch`,
      );
    },
  );
});

/** A few Adam steps on random batches in training mode, so weights and BatchNorm statistics leave their init. */
function trainALittle(model: Module, shape: number[], classes: number): void {
  const rng = new Generator(3);
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const lossFn = new CrossEntropyLoss();
  model.train();
  for (let step = 0; step < 5; step++) {
    const x = randomTensor(shape, 100 + step, 2);
    const y = Int32Array.from({ length: shape[0] }, () => Math.floor(rng.uniform(0, classes)));
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y);
    model.backward(lossFn.backward());
    opt.step();
  }
}

test('trainALittle moves the weights (so the live check compares trained, not initial, weights)', () => {
  manualSeed(7);
  const model = sequential();
  const before = model.stateDict()['8.weight'].data.slice();
  trainALittle(model, [4, 3, 16, 16], 5);
  let moved = 0;
  const after = model.stateDict()['8.weight'].data;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  expect(moved).toBeGreaterThan(before.length / 2);
  expect(model.stateDict()['1.running_mean'].data.some((v) => v !== 0)).toBe(true);
});
