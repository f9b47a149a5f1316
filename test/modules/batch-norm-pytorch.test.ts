// SPDX-License-Identifier: MIT
// BatchNorm1d/2d and LeNetBN against PyTorch 1.13 (test/fixtures/batchnorm.safetensors, made by gen_batchnorm.py).
import * as fs from 'fs';
import * as path from 'path';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { BatchNorm1d, BatchNorm2d, BatchNormBase, BatchNormOptions } from '../../lib/modules/batch-norm';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { native } from '../../lib/native';
import { expectAllClose } from '../helpers';

const FILE = path.join(__dirname, '..', 'fixtures', 'batchnorm.safetensors');
const { tensors: fx, metadata } = readSafetensors(FILE);
const ATOL = 1e-5;
const RTOL = 1e-5;
const CASES = ['bn1d', 'bn1d_3d', 'bn1d_notrack', 'bn2d', 'bn2d_noaffine', 'bn2d_cma'];

function build(name: string): BatchNormBase {
  const { op, ...options } = JSON.parse(metadata[`${name}.config`]) as BatchNormOptions & { op: string };
  const bn = op === 'BatchNorm2d' ? new BatchNorm2d(options) : new BatchNorm1d(options);
  if (bn.affine) bn.loadStateDict({ ...bn.stateDict(), weight: fx[`${name}.weight`], bias: fx[`${name}.bias`] });
  return bn;
}

test('the fixture is in the reference layout (encodeSafetensors rewrites it byte for byte, [] scalars included)', () => {
  expect(metadata.generator).toBe('test/fixtures/gen_batchnorm.py');
  expect(fx['bn2d.num_batches_tracked'].shape).toEqual([]);
  expect(encodeSafetensors(fx, metadata).equals(fs.readFileSync(FILE))).toBe(true);
});

describe.each(CASES)('%s matches PyTorch', (name) => {
  const close = (actual: ArrayLike<number>, key: string) =>
    expectAllClose(actual, fx[`${name}.${key}`].data, ATOL, RTOL, `${name}.${key}`);

  test('training forward and backward with a random upstream gradient', () => {
    const bn = build(name);
    const out = bn.forward(fx[`${name}.x0`]);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    close(out.data, 'output');
    close(bn.backward(fx[`${name}.dout`]).data, 'dinput');
    if (bn.affine) {
      close(bn.weight!.grad.data, 'dweight');
      close(bn.bias!.grad.data, 'dbias');
    }
  });

  test('running statistics after 1 and 3 training steps, then eval forward', () => {
    const bn = build(name);
    bn.forward(fx[`${name}.x0`]);
    if (bn.trackRunningStats) {
      close(bn.runningMean!.data, 'running_mean1');
      close(bn.runningVar!.data, 'running_var1');
    }
    bn.forward(fx[`${name}.x1`]);
    bn.forward(fx[`${name}.x2`]);
    if (bn.trackRunningStats) {
      close(bn.runningMean!.data, 'running_mean');
      close(bn.runningVar!.data, 'running_var');
      expect(bn.numBatchesTracked).toBe(fx[`${name}.num_batches_tracked`].data[0]);
    }
    bn.eval();
    close(bn.forward(fx[`${name}.eval_input`]).data, 'eval_output');
  });

  // The module keeps no state in eval mode (the Module contract), so the eval backward is checked on the binding.
  test('eval-mode backward (batchNormBackwardEval) with the running statistics', () => {
    const bn = build(name);
    if (!bn.trackRunningStats) return;
    for (const x of ['x0', 'x1', 'x2']) bn.forward(fx[`${name}.${x}`]);
    const x = fx[`${name}.eval_input`],
      [n, c] = x.shape,
      s = x.size / (n * c);
    const dinput = new Float32Array(x.size),
      dweight = new Float32Array(c),
      dbias = new Float32Array(c);
    native.batchNormBackwardEval(
      dinput,
      bn.affine ? dweight : null,
      bn.affine ? dbias : null,
      fx[`${name}.eval_dout`].data,
      x.data,
      bn.runningMean!.data,
      bn.runningVar!.data,
      bn.weight?.data.data ?? null,
      n,
      c,
      s,
      bn.eps,
    );
    close(dinput, 'eval_dinput');
    if (bn.affine) {
      close(dweight, 'eval_dweight');
      close(dbias, 'eval_dbias');
    }
  });
});

describe('LeNetBN matches PyTorch', () => {
  const targets = Int32Array.from(fx['lenetbn.targets'].data);
  const pytorchLeNetBN = (): LeNetBN => {
    const net = new LeNetBN();
    net.loadStateDict(Object.fromEntries(Object.keys(net.stateDict()).map((k) => [k, fx[`lenetbn.init.${k}`]])));
    return net;
  };

  test("state dict names are PyTorch's; 62,050 parameters", () => {
    const net = new LeNetBN();
    const pytorchNames = Object.keys(fx)
      .filter((k) => k.startsWith('lenetbn.init.'))
      .map((k) => k.slice('lenetbn.init.'.length));
    expect(Object.keys(net.stateDict()).sort()).toEqual(pytorchNames.sort());
    expect(net.numParameters()).toBe(62050);
  });

  test('training-mode logits, loss, every gradient, the updated running statistics and the eval logits', () => {
    const net = pytorchLeNetBN();
    const lossFn = new CrossEntropyLoss();
    const logits = net.forward(fx['lenetbn.input']);
    expectAllClose(logits.data, fx['lenetbn.logits'].data, ATOL, 1e-4, 'logits');
    const loss = lossFn.forward(logits, targets);
    expect(Math.abs(loss - fx['lenetbn.loss'].data[0])).toBeLessThanOrEqual(1e-5);
    const dinput = net.backward(lossFn.backward());
    expectAllClose(dinput.data, fx['lenetbn.grad.input'].data, ATOL, 1e-4, 'grad.input');
    for (const [n, p] of net.namedParameters())
      expectAllClose(p.grad.data, fx[`lenetbn.grad.${n}`].data, ATOL, 1e-4, `grad.${n}`);
    for (const [n, b] of net.namedBuffers())
      expectAllClose(b.data, fx[`lenetbn.after.${n}`].data, ATOL, 1e-5, `after.${n}`);
    net.eval();
    expectAllClose(net.forward(fx['lenetbn.input']).data, fx['lenetbn.eval_logits'].data, ATOL, 1e-4, 'eval_logits');
    expectAllClose(net.predict(fx['lenetbn.input']).data, fx['lenetbn.eval_logits'].data, ATOL, 1e-4, 'predict');
  });

  test('config and options as LeNet', () => {
    expect(new LeNetBN().config).toEqual({ inChannels: 3, imageSize: 32, numClasses: 10, padding: 0 });
    const digits = new LeNetBN({ inChannels: 1, imageSize: 28, numClasses: 10 });
    expect(digits.config.padding).toBe(2);
    expect(digits.outputShape([5, 1, 28, 28])).toEqual([5, 10]);
    expect(() => new LeNetBN({ imageSize: 12 })).toThrow(/^LeNetBN: imageSize 12 is too small/);
    expect(() => new LeNetBN({ depth: 3 } as never)).toThrow(/unknown option 'depth'/);
  });
});
