// SPDX-License-Identifier: MIT
// simdnet -> PyTorch for the CIFAR ResNets: a state dict simdnet wrote after training loads into resnet_cifar.py's
// model with load_state_dict(strict=True) and PyTorch's eval-mode logits equal simdnet's (live, through
// test/fixtures/graph/gen_graph_fixtures.py; the other direction is resnet.test.ts, from committed fixtures).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { readSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { ResNet } from '../../lib/models/resnet';
import { SGD } from '../../lib/optim/sgd';
import { manualSeed } from '../../lib/random';
import { expectAllClose, randomTensor } from '../helpers';
import { findTorchPython, runPython } from '../io/torch-python';

const SCRIPT = path.join(__dirname, '..', 'fixtures', 'graph', 'gen_graph_fixtures.py');

const torch = findTorchPython();
if ('missing' in torch && process.env.CI) throw new Error(`CI must run the PyTorch interop test: ${torch.missing}`);
if ('missing' in torch) console.warn(`skipping simdnet -> PyTorch ResNet interop: ${torch.missing}`);
const describeLive = 'python' in torch ? describe : describe.skip;

describeLive('simdnet -> PyTorch: ResNet state dicts load strictly and give the same logits', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-resnet-interop-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['resnet20_a', 20, 'A'],
    ['resnet20_b', 20, 'B'],
  ] as const)('%s after simdnet trained it', (name, depth, shortcut) => {
    manualSeed(3);
    const model = new ResNet({ depth, shortcut });
    const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const lossFn = new CrossEntropyLoss();
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      lossFn.forward(
        model.forward(randomTensor([8, 3, 32, 32], 20 + step, 1.5)),
        Int32Array.from({ length: 8 }, (_, i) => (i * 3 + step) % 10),
      );
      model.backward(lossFn.backward(), { inputGrad: false });
      opt.step();
    }
    const input = randomTensor([3, 3, 32, 32], 40);
    const weights = path.join(dir, `${name}.safetensors`);
    const inputs = path.join(dir, `${name}-input.safetensors`);
    const out = path.join(dir, `${name}-logits.safetensors`);
    saveSafetensors(weights, model.stateDict());
    saveSafetensors(inputs, { input });
    runPython((torch as { python: string }).python, [SCRIPT, 'logits', name, weights, inputs, out]);
    expectAllClose(
      readSafetensors(out).tensors.logits.data,
      model.predict(input).data,
      1e-5,
      1e-5,
      `${name} logits in PyTorch`,
    );
  });
});
