// SPDX-License-Identifier: MIT
// predict() and predictAsync(): eval-mode results through the native program, without touching the
// training state, off the event loop for the async twin; the program binding rejects bad programs.
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { LeNet } from '../../lib/modules/lenet';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { native } from '../../lib/native';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

function evalForward(model: Module, x: Tensor): Tensor {
  model.eval();
  const y = model.forward(x);
  model.train();
  return y;
}

describe('predict', () => {
  test.each([1, 3, 64])('LeNet at batch %i equals the eval-mode forward', (batch) => {
    const net = new LeNet();
    const x = randomTensor([batch, 3, 32, 32], batch);
    expectAllClose(net.predict(x).data, evalForward(net, x).data, 1e-6, 1e-5, 'logits');
  });

  test('a model with every supported layer option runs natively and matches forward', () => {
    const net = new Sequential(
      new Conv2d({
        inChannels: 2,
        outChannels: 4,
        kernelSize: [3, 2],
        stride: 2,
        padding: 1,
        dilation: [1, 2],
        groups: 2,
      }),
      new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
      new ReLU(),
      new Sequential(new Flatten(), new Linear({ inFeatures: 4 * 3 * 3, outFeatures: 5, bias: false })),
      new ReLU(),
    );
    const x = randomTensor([2, 2, 9, 7], 4);
    expectAllClose(net.predict(x).data, evalForward(net, x).data, 1e-6, 1e-5, 'output');
  });

  test('leaves the training mode and a pending backward intact', () => {
    const net = new LeNet();
    const x = randomTensor([2, 3, 32, 32], 5);
    const dout = randomTensor([2, 10], 6);
    net.forward(x);
    net.backward(dout);
    const expected = net.parameters().map((p) => p.grad.data.slice());
    net.zeroGrad();
    net.forward(x);
    net.predict(randomTensor([7, 3, 32, 32], 7)); // in between forward and backward
    net.backward(dout);
    expect(net.training).toBe(true);
    net.parameters().forEach((p, i) => expectAllClose(p.grad.data, expected[i], 0, 0, `grad ${i}`));
  });

  test('predictAsync resolves to the same values, from a copy of its input', async () => {
    const net = new LeNet();
    const x = randomTensor([16, 3, 32, 32], 8);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    let y: Tensor;
    try {
      const pending = net.predictAsync(x);
      x.data.fill(0); // the native side works on a copy
      y = await pending;
    } finally {
      clearInterval(timer);
    }
    expect(y.shape).toEqual([16, 10]);
    expectAllClose(y.data, net.predict(randomTensor([16, 3, 32, 32], 8)).data, 0, 0, 'async logits');
  });

  test('bad input gives a clear error', () => {
    const net = new LeNet();
    expect(() => net.predict([1, 2] as never)).toThrow(TypeError);
    expect(() => net.predict(randomTensor([3072], 1))).toThrow(/batch dimension/);
    expect(() => net.predict(randomTensor([1, 3, 28, 28], 1))).toThrow(RangeError);
  });
});

describe('runProgram binding', () => {
  const weight = new Float32Array(6);
  test('rejects malformed programs, parameters and buffers', () => {
    const linear = Int32Array.from([3, 3, 2, 0, 0, -1]); // linear 3 -> 2, weight = params[0]
    const ok = () => native.runProgram(linear, [weight], new Float32Array(3), new Float32Array(2), 1);
    expect(ok).not.toThrow();
    expectErrorNamed(
      () => native.runProgram(Int32Array.from([99]), [], new Float32Array(1), new Float32Array(1), 1),
      'RangeError',
      /unknown op code 99/,
    );
    expectErrorNamed(
      () => native.runProgram(Int32Array.from([3, 3]), [weight], new Float32Array(3), new Float32Array(2), 1),
      'RangeError',
      /ends inside an op/,
    );
    expectErrorNamed(
      () => native.runProgram(linear, [], new Float32Array(3), new Float32Array(2), 1),
      'RangeError',
      /not a parameter/,
    );
    expectErrorNamed(
      () => native.runProgram(linear, [new Float32Array(5)], new Float32Array(3), new Float32Array(2), 1),
      'RangeError',
      /linear weight length 5 != 6/,
    );
    expectErrorNamed(
      () => native.runProgram(linear, [weight], new Float32Array(4), new Float32Array(2), 1),
      'RangeError',
      /input length 4/,
    );
    expectErrorNamed(
      () =>
        native.runProgram(
          Int32Array.from([3, 3, 2, 0, 0, -1, 3, 3, 2, 0, 0, -1]),
          [weight],
          new Float32Array(3),
          new Float32Array(2),
          1,
        ),
      'RangeError',
      /takes 3 values per image but the previous op gives 2/,
    );
    expectErrorNamed(
      () => native.runProgram([3] as never, [weight], new Float32Array(3), new Float32Array(2), 1),
      'TypeError',
      /code must be an Int32Array/,
    );
    expectErrorNamed(
      () => native.runProgram(linear, [[1]] as never, new Float32Array(3), new Float32Array(2), 1),
      'TypeError',
      /params\[0\] must be a Float32Array/,
    );
    // maxpool c h w kh kw sh sw ph pw dh dw ceil: a 2-tap window with dilation 2 on a 1-row input reads rows -1 and 1.
    expectErrorNamed(
      () =>
        native.runProgram(
          Int32Array.from([2, 1, 1, 4, 2, 2, 2, 2, 1, 1, 2, 1, 0]),
          [],
          new Float32Array(4),
          new Float32Array(2),
          1,
        ),
      'RangeError',
      /pool has a window holding only padding/,
    );
    expectErrorNamed(
      () =>
        native.runProgram(
          Int32Array.from([2, 1, 1, 4, 2, 2, 2, 2, 1, 1, 0, 1, 0]),
          [],
          new Float32Array(4),
          new Float32Array(2),
          1,
        ),
      'RangeError',
      /dilationH = 0 is out of range/,
    );
    // avg pool c h w oh ow, row starts/ends, column starts/ends, divisors: 1 channel 2x2 -> 1x1.
    const avg = (rest: number[]) => () =>
      native.runProgram(Int32Array.from([5, 1, 2, 2, 1, 1, ...rest]), [], new Float32Array(4), new Float32Array(1), 1);
    expect(avg([0, 2, 0, 2, 4])).not.toThrow();
    expectErrorNamed(avg([0, 2, 0, 2]), 'RangeError', /window table ends early/);
    expectErrorNamed(avg([0, 3, 0, 2, 4]), 'RangeError', /window index outside its input/);
    expectErrorNamed(avg([2, 1, 0, 2, 4]), 'RangeError', /row window ends before it starts/);
    expectErrorNamed(avg([0, 2, 0, 2, 0]), 'RangeError', /divisor 0 for a non-empty window/);
    expectErrorNamed(avg([0, 2, -1, 2, 4]), 'RangeError', /column index = -1 is out of range/);
    expectErrorNamed(
      () =>
        native.runProgram(Int32Array.from([5, 1, 2, 2, 4096, 4096]), [], new Float32Array(4), new Float32Array(1), 1),
      'RangeError',
      /ends early/,
    );
    const shared = new Float32Array(5);
    expectErrorNamed(
      () => native.runProgram(linear, [weight], shared.subarray(0, 3), shared.subarray(2, 4), 1),
      'RangeError',
      /overlaps/,
    );
  });
});
