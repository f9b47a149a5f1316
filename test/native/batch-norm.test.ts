// SPDX-License-Identifier: MIT
// The batch-norm exports (native/binding_norm.cc, ops/batchnorm_op.cc): argument checks (TypeError/RangeError naming op
// and argument), accumulation, and results that do not depend on the thread count.
import { native } from '../../lib/native';
import { expectErrorNamed } from '../helpers';
import { restore, setThreads } from './isa';

const [N, C, S] = [2, 3, 4];
const f = (n: number, v = 0.5) => new Float32Array(n).map((_, i) => v + ((i * 7) % 5) * 0.25);

type Call = (args: unknown[]) => unknown;
interface Op {
  name: keyof typeof native;
  names: string[];
  valid(): unknown[];
  /** Optional trailing arguments the export also takes (valid() leaves them out). */
  optionalTrailing?: number;
}
const call =
  (op: Op): Call =>
  (args) =>
    (native[op.name] as (...a: unknown[]) => unknown)(...args);

const OPS: Op[] = [
  {
    name: 'batchNormForwardTrain',
    names: [
      'out',
      'saveMean',
      'saveInvstd',
      'runningMean',
      'runningVar',
      'input',
      'weight',
      'bias',
      'n',
      'c',
      's',
      'eps',
      'momentum',
    ],
    valid: () => [f(N * C * S), f(C), f(C), f(C), f(C), f(N * C * S), f(C), f(C), N, C, S, 1e-5, 0.1],
    optionalTrailing: 2, // fuseRelu, residual
  },
  {
    name: 'batchNormForwardEval',
    names: ['out', 'input', 'runningMean', 'runningVar', 'weight', 'bias', 'n', 'c', 's', 'eps'],
    valid: () => [f(N * C * S), f(N * C * S), f(C), f(C), f(C), f(C), N, C, S, 1e-5],
  },
  {
    name: 'batchNormBackwardTrain',
    names: ['dinput', 'dweight', 'dbias', 'doutput', 'input', 'saveMean', 'saveInvstd', 'weight', 'n', 'c', 's'],
    valid: () => [f(N * C * S), f(C), f(C), f(N * C * S), f(N * C * S), f(C), f(C), f(C), N, C, S],
    optionalTrailing: 3, // bias, overwriteDinput, fuseRelu
  },
  {
    name: 'batchNormBackwardEval',
    names: [
      'dinput',
      'dweight',
      'dbias',
      'doutput',
      'input',
      'runningMean',
      'runningVar',
      'weight',
      'n',
      'c',
      's',
      'eps',
    ],
    valid: () => [f(N * C * S), f(C), f(C), f(N * C * S), f(N * C * S), f(C), f(C), f(C), N, C, S, 1e-5],
  },
];
const OPTIONAL: Record<string, string[]> = {
  batchNormForwardTrain: ['runningMean', 'runningVar', 'weight', 'bias'],
  batchNormForwardEval: ['weight', 'bias'],
  batchNormBackwardTrain: ['dinput', 'dweight', 'dbias', 'weight'],
  batchNormBackwardEval: ['dinput', 'dweight', 'dbias', 'weight'],
};
/** batchNormForwardTrain with fresh statistics, no running buffers and any fuseRelu / residual (for the error checks). */
function forwardTrainUntyped(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  [n, c, s]: number[],
  relu: unknown,
  ...residual: unknown[]
): void {
  const call = native.batchNormForwardTrain as (...a: unknown[]) => void;
  call(out, new Float32Array(c), new Float32Array(c), null, null, x, w, b, n, c, s, 1e-5, 0.1, relu, ...residual);
}

const with1 = (args: unknown[], i: number, v: unknown) => args.map((a, j) => (j === i ? v : a));

describe.each(OPS.map((op): [string, Op] => [op.name, op]))('%s', (op, spec) => {
  const run = call(spec);
  const buffers = spec.names
    .map((n, i): [string, number] => [n, i])
    .filter(([, i]) => spec.valid()[i] instanceof Float32Array);
  const sizes = spec.names.map((n, i): [string, number] => [n, i]).filter(([n]) => ['n', 'c', 's'].includes(n));

  test('a valid call succeeds, and null optional buffers are accepted', () => {
    expect(() => run(spec.valid())).not.toThrow();
    const args = spec.valid();
    for (const name of OPTIONAL[op]) args[spec.names.indexOf(name)] = null;
    expect(() => run(args)).not.toThrow();
  });

  test('wrong arity is a TypeError', () => {
    const args = spec.valid();
    const extra = spec.optionalTrailing ?? 0;
    const expected = extra === 0 ? `${args.length}` : `${args.length} to ${args.length + extra}`;
    expectErrorNamed(
      () => run(args.slice(0, -1)),
      'TypeError',
      new RegExp(`^${op}: expected ${expected} arguments, got ${args.length - 1}$`),
    );
    const tooMany = [...args, ...new Array<number>(extra + 1).fill(0)];
    expectErrorNamed(() => run(tooMany), 'TypeError', new RegExp(`^${op}: expected ${expected} arguments`));
  });

  test.each(buffers)('%s: wrong kind is a TypeError, wrong length a RangeError', (name, i) => {
    const args = spec.valid(),
      len = (args[i] as Float32Array).length;
    for (const bad of [new Float64Array(len), Array.from({ length: len }, () => 0), 'x', 3, new Int32Array(len)]) {
      expectErrorNamed(
        () => run(with1(args, i, bad)),
        'TypeError',
        new RegExp(`^${op}: ${name} must be a Float32Array`),
      );
    }
    if (!OPTIONAL[op].includes(name))
      expectErrorNamed(() => run(with1(args, i, null)), 'TypeError', new RegExp(`^${op}: ${name} must be`));
    for (const bad of [len - 1, len + 1]) {
      const expected = len === C ? `C = ${C}` : `N\\*C\\*S = ${N * C * S}`;
      expectErrorNamed(
        () => run(with1(args, i, new Float32Array(bad))),
        'RangeError',
        new RegExp(`^${op}: ${name} length ${bad} != ${expected}$`),
      );
    }
  });

  test.each(sizes)('size %s: bad values are RangeErrors, non-numbers TypeErrors', (name, i) => {
    const args = spec.valid();
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 41]) {
      expectErrorNamed(
        () => run(with1(args, i, bad)),
        'RangeError',
        new RegExp(`^${op}: ${name} must be an integer >= 1`),
      );
    }
    for (const bad of ['2', null, {}])
      expectErrorNamed(() => run(with1(args, i, bad)), 'TypeError', new RegExp(`^${op}: ${name} must be a number`));
    // A consistent but huge shape is refused by a product or a buffer length, never by a crash.
    expectErrorNamed(() => run(with1(args, i, 2 ** 40)), 'RangeError', new RegExp(`^${op}: `));
  });

  test('an output overlapping another buffer is a RangeError', () => {
    const args = spec.valid(),
      first = 0,
      input = spec.names.indexOf('input');
    const shared = new Float32Array(N * C * S);
    expectErrorNamed(
      () => run(with1(with1(args, first, shared), input, shared)),
      'RangeError',
      new RegExp(`^${op}: .* overlaps .* in memory`),
    );
  });
});

describe('value checks', () => {
  const train = call(OPS[0]),
    evalFwd = call(OPS[1]),
    backEval = call(OPS[3]);
  test('eps must be a finite number >= 0 (0 is allowed, as PyTorch); momentum in [0, 1]', () => {
    const args = OPS[0].valid();
    expect(() => train(with1(args, 11, 0))).not.toThrow();
    for (const bad of [-1e-5, NaN, Infinity])
      expectErrorNamed(
        () => train(with1(args, 11, bad)),
        'RangeError',
        /^batchNormForwardTrain: eps must be a finite number in \[0, Infinity\]/,
      );
    expectErrorNamed(() => evalFwd(with1(OPS[1].valid(), 9, -1)), 'RangeError', /^batchNormForwardEval: eps must be/);
    expectErrorNamed(
      () => backEval(with1(OPS[3].valid(), 11, '1')),
      'TypeError',
      /^batchNormBackwardEval: eps must be a number/,
    );
    for (const bad of [-0.1, 1.1, NaN])
      expectErrorNamed(
        () => train(with1(args, 12, bad)),
        'RangeError',
        /^batchNormForwardTrain: momentum must be a finite number in \[0, 1\]/,
      );
  });

  test('training needs more than one value per channel (n*s > 1)', () => {
    const args = [f(C), f(C), f(C), f(C), f(C), f(C), f(C), f(C), 1, C, 1, 1e-5, 0.1];
    expectErrorNamed(
      () => train(args),
      'RangeError',
      /^batchNormForwardTrain: input: expected more than 1 value per channel when training, got n\*s = 1$/,
    );
  });

  test('runningMean and runningVar must both be given or both be null', () => {
    expectErrorNamed(
      () => train(with1(OPS[0].valid(), 4, null)),
      'TypeError',
      /^batchNormForwardTrain: runningVar must be a Float32Array, got null \(runningMean and runningVar: both or neither\)$/,
    );
    expectErrorNamed(
      () => train(with1(OPS[0].valid(), 3, null)),
      'TypeError',
      /^batchNormForwardTrain: runningMean must be a Float32Array, got null \(runningMean and runningVar: both or neither\)$/,
    );
  });
});

describe('kernel contract', () => {
  test('long rows (S = 2051: blocks of 1024, a tail of 3) match a float64 reference, train and backward', () => {
    const [n, c, s] = [2, 2, 2051],
      m = n * s;
    const x = new Float32Array(n * c * s).map((_, i) => 100 + Math.sin(i * 0.37) * (1 + (i % 3)));
    const dy = new Float32Array(n * c * s).map((_, i) => Math.cos(i * 0.11));
    const w = Float32Array.from([1.5, -0.5]),
      b = Float32Array.from([0.25, 2]);
    const out = new Float32Array(x.length),
      mean = new Float32Array(c),
      invstd = new Float32Array(c);
    const rm = new Float32Array(c),
      rv = new Float32Array(c).fill(1);
    native.batchNormForwardTrain(out, mean, invstd, rm, rv, x, w, b, n, c, s, 1e-5, 0.1);
    const dx = new Float32Array(x.length),
      dw = new Float32Array(c),
      db = new Float32Array(c);
    native.batchNormBackwardTrain(dx, dw, db, dy, x, mean, invstd, w, n, c, s);
    for (let ch = 0; ch < c; ch++) {
      const idx = Array.from({ length: m }, (_, k) => (Math.floor(k / s) * c + ch) * s + (k % s));
      const mu = idx.reduce((a, i) => a + x[i], 0) / m;
      const v = idx.reduce((a, i) => a + (x[i] - mu) ** 2, 0) / m,
        is = 1 / Math.sqrt(v + 1e-5);
      const sy = idx.reduce((a, i) => a + dy[i], 0),
        sxy = idx.reduce((a, i) => a + (x[i] - mu) * dy[i], 0);
      expect(Math.abs(mean[ch] - mu)).toBeLessThan(1e-5 * Math.abs(mu));
      expect(Math.abs(rv[ch] - (0.9 + (0.1 * v * m) / (m - 1)))).toBeLessThan(1e-5);
      expect(Math.abs(db[ch] - sy)).toBeLessThan(1e-4);
      expect(Math.abs(dw[ch] - sxy * is)).toBeLessThan(1e-3);
      for (const i of idx.filter((_, k) => k % 97 === 0)) {
        expect(Math.abs(out[i] - ((x[i] - mu) * is * w[ch] + b[ch]))).toBeLessThan(1e-3);
        expect(Math.abs(dx[i] - (dy[i] - sy / m - ((x[i] - mu) * is * is * sxy) / m) * is * w[ch])).toBeLessThan(1e-4);
      }
    }
  });

  test('forward overwrites out and the saved statistics; backward accumulates into every d* buffer', () => {
    const args = OPS[0].valid() as [Float32Array, Float32Array, Float32Array, ...unknown[]];
    args[0].fill(123);
    args[1].fill(123);
    call(OPS[0])(args);
    const first = args.slice(0, 3).map((a) => Array.from(a as Float32Array));
    args[0].fill(-7);
    (args[3] as Float32Array).set(f(C));
    (args[4] as Float32Array).set(f(C));
    call(OPS[0])(args);
    expect(args.slice(0, 3).map((a) => Array.from(a as Float32Array))).toEqual(first);

    for (const op of [OPS[2], OPS[3]]) {
      const once = op.valid(),
        twice = op.valid();
      for (const a of [once, twice]) for (let i = 0; i < 3; i++) (a[i] as Float32Array).fill(0);
      call(op)(once);
      call(op)(twice);
      call(op)(twice);
      for (let i = 0; i < 3; i++) {
        const a = once[i] as Float32Array,
          b = twice[i] as Float32Array;
        b.forEach((v, k) => expect(v).toBeCloseTo(2 * a[k], 5));
      }
    }
  });
});

describe('BatchNorm + ReLU fused (fuseRelu) and overwriteDinput', () => {
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  // Values around the mean, so about half the ReLU outputs are 0; S = 1030 takes a block of 1024 and a tail.
  const [n, c, s] = [3, 4, 1030],
    count = n * c * s;
  const x = new Float32Array(count).map((_, i) => Math.sin(i * 0.37) * (1 + (i % 3)));
  const dy = new Float32Array(count).map((_, i) => Math.cos(i * 0.11));
  const w = Float32Array.from([1.5, -0.5, 0.75, 2]),
    b = Float32Array.from([0.25, 0.5, -0.125, 0]);
  const forward = (relu: boolean) => {
    const out = new Float32Array(count),
      mean = new Float32Array(c),
      invstd = new Float32Array(c),
      rm = new Float32Array(c),
      rv = new Float32Array(c).fill(1);
    native.batchNormForwardTrain(out, mean, invstd, rm, rv, x, w, b, n, c, s, 1e-5, 0.1, relu ? 1 : 0);
    return { out, mean, invstd, rm, rv };
  };

  test('the fused forward equals batchNormForwardTrain then reluForward, bit for bit', () => {
    const plain = forward(false),
      fused = forward(true);
    const relu = new Float32Array(count);
    native.reluForward(relu, plain.out);
    expect(bits(fused.out)).toEqual(bits(relu));
    for (const k of ['mean', 'invstd', 'rm', 'rv'] as const) expect(bits(fused[k])).toEqual(bits(plain[k]));
    expect(relu.some((v) => v === 0) && relu.some((v) => v > 0)).toBe(true);
  });

  test("the fused backward equals reluMask then batchNormBackwardTrain, bit for bit; overwriteDinput ignores dinput's values", () => {
    const { out: y, mean, invstd } = forward(true);
    const masked = dy.slice();
    native.reluMask(masked, y);
    const ref = [new Float32Array(count), new Float32Array(c).fill(0.5), new Float32Array(c).fill(-1)];
    native.batchNormBackwardTrain(ref[0], ref[1], ref[2], masked, x, mean, invstd, w, n, c, s);
    for (const overwrite of [0, 1]) {
      const got = [
        new Float32Array(count).fill(overwrite ? 9 : 0),
        new Float32Array(c).fill(0.5),
        new Float32Array(c).fill(-1),
      ];
      native.batchNormBackwardTrain(got[0], got[1], got[2], dy, x, mean, invstd, w, n, c, s, b, overwrite, 1);
      got.forEach((g, k) => expect([overwrite, k, bits(g)]).toEqual([overwrite, k, bits(ref[k])]));
    }
    // Without a ReLU, overwriteDinput alone: as accumulating into zeros.
    const plainRef = new Float32Array(count);
    native.batchNormBackwardTrain(plainRef, null, null, dy, x, mean, invstd, w, n, c, s);
    const plainGot = new Float32Array(count).fill(-3);
    native.batchNormBackwardTrain(plainGot, null, null, dy, x, mean, invstd, w, n, c, s, null, 1);
    expect(bits(plainGot)).toEqual(bits(plainRef));
  });

  test("the mask recomputed without weight and bias (gamma 1, beta 0) is the ReLU output's", () => {
    const [y, mean, invstd] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
    native.batchNormForwardTrain(y, mean, invstd, null, null, x, null, null, n, c, s, 1e-5, 0.1, 1);
    const masked = dy.slice();
    native.reluMask(masked, y);
    const [ref, got] = [new Float32Array(count), new Float32Array(count)];
    native.batchNormBackwardTrain(ref, null, null, masked, x, mean, invstd, null, n, c, s);
    native.batchNormBackwardTrain(got, null, null, dy, x, mean, invstd, null, n, c, s, null, 1, 1);
    expect(bits(got)).toEqual(bits(ref));
    expect(y.some((v) => v === 0) && y.some((v) => v > 0)).toBe(true);
  });

  test('bad bias, fuseRelu and overwriteDinput values are TypeErrors/RangeErrors naming them', () => {
    const { mean, invstd } = forward(true);
    const dx = new Float32Array(count);
    const back =
      (...extra: unknown[]) =>
      () =>
        (native.batchNormBackwardTrain as (...a: unknown[]) => void)(
          dx,
          null,
          null,
          dy,
          x,
          mean,
          invstd,
          w,
          n,
          c,
          s,
          ...extra,
        );
    expectErrorNamed(back(new Float64Array(c)), 'TypeError', /^batchNormBackwardTrain: bias must be a Float32Array/);
    expectErrorNamed(back(new Float32Array(c - 1)), 'RangeError', /^batchNormBackwardTrain: bias length/);
    expectErrorNamed(back(b, -1), 'RangeError', /^batchNormBackwardTrain: overwriteDinput must be an integer >= 0/);
    expectErrorNamed(back(b, 1, 0.5), 'RangeError', /^batchNormBackwardTrain: fuseRelu must be an integer >= 0/);
    expectErrorNamed(back(b, 1, '1'), 'TypeError', /^batchNormBackwardTrain: fuseRelu must be a number/);
    expectErrorNamed(back(dx.subarray(0, c)), 'RangeError', /^batchNormBackwardTrain: .* overlaps .* in memory/);
    const fwd = (relu: unknown) => () => forwardTrainUntyped(new Float32Array(count), x, w, b, [n, c, s], relu);
    expectErrorNamed(fwd(0.5), 'RangeError', /^batchNormForwardTrain: fuseRelu must be an integer >= 0/);
    expectErrorNamed(fwd('1'), 'TypeError', /^batchNormForwardTrain: fuseRelu must be a number/);
  });
});

describe('BatchNorm + residual add (+ ReLU) fused (residual)', () => {
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  // S = 1030: a block of 1024 and a tail.
  const [n, c, s] = [5, 4, 1030],
    count = n * c * s;
  const x = new Float32Array(count).map((_, i) => Math.sin(i * 0.37) * (1 + (i % 3)));
  const res = new Float32Array(count).map((_, i) => Math.sin(i * 0.19 + 1) * 0.8);
  const w = Float32Array.from([1.5, -0.5, 0.75, 2]),
    b = Float32Array.from([0.25, 0.5, -0.125, 0]);
  const forward = (residual: Float32Array | null, relu: boolean) => {
    const [out, mean, invstd] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
    const [rm, rv] = [new Float32Array(c), new Float32Array(c).fill(1)];
    native.batchNormForwardTrain(out, mean, invstd, rm, rv, x, w, b, n, c, s, 1e-5, 0.1, relu ? 1 : 0, residual);
    return { out, mean, invstd, rm, rv };
  };

  test('the fused forward equals batchNormForwardTrain then addRelu (or add), bit for bit', () => {
    const plain = forward(null, false);
    for (const relu of [true, false]) {
      const fused = forward(res, relu);
      const ref = new Float32Array(count);
      (relu ? native.addRelu : native.add)(ref, plain.out, res);
      expect([relu, bits(fused.out)]).toEqual([relu, bits(ref)]);
      for (const k of ['mean', 'invstd', 'rm', 'rv'] as const) expect(bits(fused[k])).toEqual(bits(plain[k]));
    }
    const out = forward(res, true).out;
    expect(out.some((v) => v === 0) && out.some((v) => v > 0)).toBe(true);
  });

  test('a bad residual is a TypeError/RangeError naming it; it may not be out', () => {
    const fwd =
      (residual: unknown, out = new Float32Array(count)) =>
      () =>
        forwardTrainUntyped(out, x, w, b, [n, c, s], 1, residual);
    expectErrorNamed(
      fwd(new Float64Array(count)),
      'TypeError',
      /^batchNormForwardTrain: residual must be a Float32Array/,
    );
    expectErrorNamed(fwd(new Float32Array(count - 1)), 'RangeError', /^batchNormForwardTrain: residual length/);
    const out = new Float32Array(count);
    expectErrorNamed(fwd(out, out), 'RangeError', /^batchNormForwardTrain: .* overlaps .* in memory/);
  });
});

describe('threads', () => {
  afterAll(restore);

  /** The index of the first element whose bits differ, or -1. */
  const firstDiff = (a: Float32Array, b: Float32Array): number => {
    const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
      y = new Uint32Array(b.buffer, b.byteOffset, b.length);
    return x.findIndex((v, i) => v !== y[i]);
  };

  test('1, 2 and 3 threads give bit-identical results from all four exports and the fused ReLU and residual + ReLU (13 channels split unevenly)', () => {
    // 8 * 13 * 6007 values: enough work for the ops layer to give every thread a range of channels.
    const [n, c, s] = [8, 13, 6007],
      count = n * c * s;
    const x = new Float32Array(count).map((_, i) => Math.sin(i * 0.013) * (1 + (i % 7)) + (i % 13));
    const dy = new Float32Array(count).map((_, i) => Math.cos(i * 0.029));
    const w = f(c),
      b = f(c, -0.25);
    const run = (threads: number): Float32Array[] => {
      setThreads(threads);
      const out = new Float32Array(count),
        mean = new Float32Array(c),
        invstd = new Float32Array(c),
        rm = f(c, 0),
        rv = f(c, 1);
      native.batchNormForwardTrain(out, mean, invstd, rm, rv, x, w, b, n, c, s, 1e-5, 0.1);
      const evalOut = new Float32Array(count);
      native.batchNormForwardEval(evalOut, x, rm, rv, w, b, n, c, s, 1e-5);
      const [dx, dw, db] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
      native.batchNormBackwardTrain(dx, dw, db, dy, x, mean, invstd, w, n, c, s);
      const [dxe, dwe, dbe] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
      native.batchNormBackwardEval(dxe, dwe, dbe, dy, x, rm, rv, w, n, c, s, 1e-5);
      // BatchNorm + ReLU fused, forward and backward.
      const [y, m2, i2] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
      native.batchNormForwardTrain(y, m2, i2, null, null, x, w, b, n, c, s, 1e-5, 0.1, 1);
      const [dxr, dwr, dbr] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
      native.batchNormBackwardTrain(dxr, dwr, dbr, dy, x, m2, i2, w, n, c, s, b, 1, 1);
      // BatchNorm + residual add + ReLU fused.
      const [z, m3, i3] = [new Float32Array(count), new Float32Array(c), new Float32Array(c)];
      native.batchNormForwardTrain(z, m3, i3, null, null, x, w, b, n, c, s, 1e-5, 0.1, 1, dy);
      return [out, mean, invstd, rm, rv, evalOut, dx, dw, db, dxe, dwe, dbe, y, dxr, dwr, dbr, z];
    };
    const one = run(1);
    for (const threads of [2, 3]) {
      run(threads).forEach((got, k) => expect([threads, k, firstDiff(got, one[k])]).toEqual([threads, k, -1]));
    }
  });
});
