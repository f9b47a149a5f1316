// SPDX-License-Identifier: MIT
// MaxPool2d: options, output sizes (dilation, ceil mode), forward/backward against a naive loop, the native program, gradcheck.
import { gradcheck } from '../../lib/gradcheck';
import { Flatten } from '../../lib/modules/flatten';
import { MaxPool2d, type MaxPool2dOptions } from '../../lib/modules/max-pool2d';
import { compileProgram } from '../../lib/modules/program';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, randomTensor } from '../helpers';

/** Max and first argmax of every window, then dinput = dout routed to the argmax, by plain loops. */
function naive(pool: MaxPool2d, x: Tensor, dout: Tensor | null = null) {
  const [n, c, h, w] = x.shape,
    [, , oh, ow] = pool.outputShape(x.shape);
  const [kh, kw] = pool.kernelSize,
    [sh, sw] = pool.stride,
    [ph, pw] = pool.padding,
    [dh, dw] = pool.dilation;
  const out = new Float32Array(n * c * oh * ow),
    dx = new Float32Array(x.size);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity,
          at = -1;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const y = oy * sh - ph + ky * dh,
              xx = ox * sw - pw + kx * dw;
            if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
            const v = x.data[(p * h + y) * w + xx];
            if (at < 0 || v > best) [best, at] = [v, (p * h + y) * w + xx];
          }
        }
        const o = (p * oh + oy) * ow + ox;
        out[o] = best;
        if (dout) dx[at] += dout.data[o];
      }
    }
  }
  return { out, dx };
}

const CASES: Array<[string, MaxPool2dOptions, number[], number[]]> = [
  ['dilation 2, stride 1', { kernelSize: 3, stride: 1, dilation: 2 }, [2, 3, 9, 8], [2, 3, 5, 4]],
  ['dilation 2, kernel 2 (default stride 2)', { kernelSize: 2, dilation: 2 }, [1, 2, 7, 8], [1, 2, 3, 3]],
  [
    'dilation [2, 3], padding 1, ceil mode',
    { kernelSize: 3, stride: 2, padding: 1, dilation: [2, 3], ceilMode: true },
    [2, 2, 10, 11],
    [2, 2, 5, 4],
  ],
  [
    'dilation [3, 1], kernel [2, 3], stride [1, 2], padding [1, 1]',
    { kernelSize: [2, 3], stride: [1, 2], padding: 1, dilation: [3, 1] },
    [1, 3, 6, 7],
    [1, 3, 5, 4],
  ],
];

describe('MaxPool2d with dilation', () => {
  test.each(CASES)('%s: outputShape, forward and backward match a naive loop', (_name, opts, shape, outShape) => {
    const pool = new MaxPool2d(opts);
    expect(pool.outputShape(shape)).toEqual(outShape);
    const x = randomTensor(shape, shape.length + outShape[3]);
    const y = pool.forward(x);
    expect(y.shape).toEqual(outShape);
    const dout = randomTensor(outShape, 7);
    const ref = naive(pool, x, dout);
    expectAllClose(y.data, ref.out, 0, 0, 'output');
    expectAllClose(pool.backward(dout)!.data, ref.dx, 1e-6, 1e-6, 'dinput');
  });

  test.each(CASES)('%s: predict() through the native program equals the eval-mode forward', (_name, opts, shape) => {
    const pool = new MaxPool2d(opts),
      flatten = new Flatten(),
      net = new Sequential(pool, flatten);
    const program = compileProgram([pool, flatten], shape.slice(1));
    expect(program).not.toBeNull(); // runs natively, not through the forward fallback
    const x = randomTensor(shape, 11);
    net.eval();
    const expected = net.forward(x).data.slice();
    net.train();
    expectAllClose(net.predict(x).data, expected, 0, 0, 'predict');
  });

  test.each(CASES)('%s: gradcheck with distinct values', (_name, opts, shape) => {
    // Distinct, well separated values so a small step never changes the argmax.
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Tensor(
      Float32Array.from(new Generator(6).permutation(n), (v) => v * 0.1),
      [...shape],
    );
    const r = gradcheck(new MaxPool2d(opts), x, { maxPerTensor: 40, eps: 1e-2 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });

  test('dilation 1 is the default and leaves toString unchanged; other values show', () => {
    expect(new MaxPool2d(2).dilation).toEqual([1, 1]);
    expect(new MaxPool2d({ kernelSize: 2, dilation: 1 }).toString()).toBe(new MaxPool2d(2).toString());
    expect(new MaxPool2d({ kernelSize: 3, stride: 1, dilation: [2, 3] }).toString()).toMatch(
      /padding=\[0, 0\], dilation=\[2, 3\]\)$/,
    );
  });

  test('padding is limited by the kernel size, not the dilated extent, as in PyTorch', () => {
    expect(() => new MaxPool2d({ kernelSize: 3, padding: 2, dilation: 2 })).toThrow(
      /padding \[2, 2\] must be at most half of kernelSize \[3, 3\]/,
    );
    expect(() => new MaxPool2d({ kernelSize: 2, dilation: [1, 0] })).toThrow(RangeError);
    expect(() => new MaxPool2d({ kernelSize: 2, dilation: [2] as never })).toThrow(RangeError);
    expect(() => new MaxPool2d({ kernelSize: 2, ceilMode: {} as never })).toThrow(
      /ceilMode must be a boolean, got Object/,
    );
  });

  test('an input too small for the dilated kernel, or leaving a window with only padding, is a RangeError', () => {
    expect(() => new MaxPool2d({ kernelSize: 3, dilation: 3 }).outputShape([1, 1, 6, 7])).toThrow(
      /input 6x7 is smaller than the kernel \[3, 3\] \(dilation \[3, 3\]\)/,
    );
    // Rows -1 and 1 of a 1-row input: PyTorch returns -inf with an index outside the input.
    const pool = new MaxPool2d({ kernelSize: 2, padding: 1, dilation: [2, 1] });
    expect(() => pool.outputShape([1, 1, 1, 4])).toThrow(
      /^MaxPool2d: input 1x4 is too small for dilation \[2, 1\]: a window of kernel \[2, 2\] holds only padding \[1, 1\]$/,
    );
    expect(() => pool.forward(randomTensor([1, 1, 1, 4], 1))).toThrow(RangeError);
    expect(pool.outputShape([1, 1, 2, 4])).toEqual([1, 1, 1, 3]);
  });
});

describe('MaxPool2d options and semantics', () => {
  test('MaxPool2d accepts a number or options and follows PyTorch output sizes', () => {
    expect(new MaxPool2d(2).outputShape([1, 1, 5, 5])).toEqual([1, 1, 2, 2]);
    expect(new MaxPool2d({ kernelSize: 2, ceilMode: true }).outputShape([1, 1, 5, 5])).toEqual([1, 1, 3, 3]);
    expect(new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }).outputShape([1, 1, 7, 7])).toEqual([1, 1, 4, 4]);
    expect(() => new MaxPool2d({ kernelSize: 2, padding: 2 })).toThrow(/at most half/);
    expect(new MaxPool2d({ kernelSize: 3, stride: 1, padding: 1, dilation: 2 }).outputShape([1, 1, 7, 7])).toEqual([
      1, 1, 5, 5,
    ]);
    expect(() => new MaxPool2d({ kernelSize: 2, dilation: 0 })).toThrow(/dilation must be an integer >= 1/);
  });

  test('MaxPool2d forward keeps PyTorch argmax semantics: NaN propagates', () => {
    const x = new Tensor(Float32Array.from([1, NaN, 3, 2]), [1, 1, 2, 2]);
    expect(Number.isNaN(new MaxPool2d(2).forward(x).data[0])).toBe(true);
  });
});
