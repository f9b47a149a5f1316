// SPDX-License-Identifier: MIT
// Graphs in native inference programs: value slots (saved and loaded values), add/mul with broadcasting, concat, pad,
// slice, clamp and sigmoid give the eval-mode forward's results; BatchNorm folds and ReLU fuses across graph edges;
// malformed descriptors of the new ops are RangeErrors naming the problem, never a crash.
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Graph } from '../../lib/modules/graph';
import { GraphBuilder, type GraphValue } from '../../lib/modules/graph-builder';
import { Linear } from '../../lib/modules/linear';
import { Module } from '../../lib/modules/module';
import { compileGraphProgram, compileProgram } from '../../lib/modules/program';
import { OP } from '../../lib/modules/program-code';
import { Sequential } from '../../lib/modules/sequential';
import { native } from '../../lib/native';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { countProgramRuns, expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const conv = (cin: number, cout: number, seed: number, stride = 1, k = 3) =>
  new Conv2d({
    inChannels: cin,
    outChannels: cout,
    kernelSize: k,
    stride,
    padding: (k - 1) / 2,
    generator: new Generator(seed),
  });

/** A BatchNorm2d with running statistics away from 0 and 1 (so folding matters). */
function trainedNorm(c: number, seed: number): BatchNorm2d {
  const bn = new BatchNorm2d({ numFeatures: c });
  const rng = new Generator(seed);
  for (let i = 0; i < c; i++) {
    bn.runningMean!.data[i] = rng.uniform(-0.5, 0.5);
    bn.runningVar!.data[i] = rng.uniform(0.5, 2);
    bn.weight!.data.data[i] = rng.uniform(0.5, 1.5);
    bn.bias!.data.data[i] = rng.uniform(-0.2, 0.2);
  }
  return bn;
}

function graphOf(body: (g: GraphBuilder, x: GraphValue) => GraphValue): Graph {
  const g = new GraphBuilder();
  return g.build(body(g, g.input()));
}

/** predict() (whether it ran natively) and the eval-mode forward. */
function run(model: Module, x: Tensor): { native: boolean; out: Float32Array; expected: Float32Array } {
  const { result, runs } = countProgramRuns(() => model.predict(x).data);
  model.eval();
  const expected = model.forward(x).data;
  model.train();
  return { native: runs === 1, out: result, expected };
}

/** Graphs of every op kind: name, input shape, model, tolerance against the eval-mode forward. */
const cases: [string, number[], () => Graph, number][] = [
  [
    'residual block (input saved to a slot, BatchNorm folded, ReLU fused into the add)',
    [3, 4, 6, 6],
    () =>
      graphOf((g, x) => {
        const c1 = g.layer('conv1', conv(4, 4, 1));
        const b1 = g.layer('bn1', trainedNorm(4, 2));
        const c2 = g.layer('conv2', conv(4, 4, 3));
        const b2 = g.layer('bn2', trainedNorm(4, 4));
        return g.relu(g.add(b2(c2(g.relu(b1(c1(x))))), x));
      }),
    1e-5,
  ],
  [
    'option-A shortcut: strided slice and channel padding',
    [2, 3, 7, 8],
    () =>
      graphOf((g, x) => {
        const c = g.layer('conv', conv(3, 5, 1, 2));
        return g.add(
          c(x),
          g.pad(g.slice(x, { axes: [2, 3], steps: [2, 2] }), [
            [1, 1],
            [0, 0],
            [0, 0],
          ]),
        );
      }),
    0,
  ],
  [
    'squeeze-and-excitation: pool, linear, sigmoid, reshape, mul broadcast',
    [3, 6, 5, 5],
    () =>
      graphOf((g, x) => {
        const fc1 = g.layer('fc1', new Linear({ inFeatures: 6, outFeatures: 3, generator: new Generator(1) }));
        const fc2 = g.layer('fc2', new Linear({ inFeatures: 3, outFeatures: 6, generator: new Generator(2) }));
        const s = g.sigmoid(fc2(g.relu(fc1(g.flatten(g.apply(new AdaptiveAvgPool2d(1), x))))));
        return g.mul(x, g.reshape(s, [6, 1, 1]));
      }),
    1e-6,
  ],
  [
    'fire module: concat of three values, one of them read twice',
    [2, 4, 5, 5],
    () =>
      graphOf((g, x) => {
        const sq = g.relu(g.layer('squeeze', conv(4, 2, 1, 1, 1))(x));
        const e1 = g.relu(g.layer('e1', conv(2, 3, 2, 1, 1))(sq));
        const e3 = g.relu(g.layer('e3', conv(2, 3, 3))(sq));
        return g.concat([e1, sq, e3, sq]);
      }),
    0,
  ],
  [
    'ReLU6 as a clamp, mul of a value by itself, concat along H',
    [2, 3, 4, 4],
    () =>
      graphOf((g, x) => {
        const y = g.clamp(g.layer('c', conv(3, 3, 1))(x), 0, 6);
        return g.concat([g.mul(y, y), g.clamp(x, -0.5, null)], 2);
      }),
    0,
  ],
  [
    'nested: a Sequential of graphs inside a graph (values of several depths)',
    [2, 2, 6, 6],
    () =>
      graphOf((g, x) => {
        const block = (seed: number) => graphOf((b, y) => b.relu(b.add(b.layer('c', conv(2, 2, seed))(y), y)));
        const blocks = g.layer('blocks', new Sequential(block(1), block(2)));
        return g.add(blocks(x), x);
      }),
    1e-6,
  ],
];

describe('graphs run as one native program, equal to the eval-mode forward', () => {
  test.each(cases)('%s', (_name, shape, make, tol) => {
    const model = make();
    for (const n of [1, shape[0]]) {
      const x = randomTensor([n, ...shape.slice(1)], n + 10, 2);
      const r = run(model, x);
      expect(r.native).toBe(true);
      expectAllClose(r.out, r.expected, tol, tol, 'predict');
    }
  });

  test('predictAsync gives predict()s result', async () => {
    const model = cases[0][2]();
    const x = randomTensor([3, 4, 6, 6], 1);
    expectAllClose((await model.predictAsync(x)).data, model.predict(x).data, 0, 0, 'predictAsync');
  });

  test('a layer the program cannot run makes predict() run in JavaScript, with the same results', () => {
    const model = graphOf((g, x) => g.add(g.layer('n', new BatchNorm2d({ numFeatures: 2 }))(x), x)); // BatchNorm with nothing to fold into
    expect(compileGraphProgram(model, [2, 3, 3])).toBeNull();
    const r = run(model, randomTensor([2, 2, 3, 3], 1));
    expect(r.native).toBe(false);
    expectAllClose(r.out, r.expected, 0, 0, 'predict');
  });

  test('a Graph inside a Sequential compiles into the Sequential program too', () => {
    const model = new Sequential(
      conv(2, 2, 1),
      graphOf((g, x) => g.relu(g.add(g.layer('c', conv(2, 2, 2))(x), x))),
    );
    expect(compileProgram([...model.namedChildren().map(([, m]) => m)], [2, 5, 5])).not.toBeNull();
    const r = run(model, randomTensor([2, 2, 5, 5], 3));
    expect(r.native).toBe(true);
    expectAllClose(r.out, r.expected, 1e-6, 1e-6, 'predict');
  });
});

describe('runProgram rejects malformed graph ops', () => {
  const f = (n: number) => new Float32Array(n);
  const runs = (code: number[], params: Float32Array[], inSize: number, outSize: number) => () =>
    native.runProgram(Int32Array.from(code), params, f(inSize), f(outSize), 1);
  test.each<[string, () => void, RegExp]>([
    [
      'a load of a slot never saved',
      runs([OP.load, 0, 4], [], 4, 4),
      /slot 0 is loaded before anything is saved in it/,
    ],
    ['a load of the wrong size', runs([OP.save, 0, 4, OP.load, 0, 5], [], 4, 5), /slot 0 holds 4 values, not 5/],
    ['a slot past the limit', runs([OP.save, 5000, 4], [], 4, 4), /slot 5000 is out of range/],
    [
      'a binary op whose slot holds the wrong size',
      runs([OP.save, 0, 4, OP.binary, 0, 0, 0, 1, 4, 4, 1], [], 4, 4),
      /binary slot 0 does not hold the other operand's values/,
    ],
    [
      'shapes that do not broadcast',
      runs([OP.save, 0, 4, OP.binary, 0, 0, 0, 2, 2, 2, 2, 2, 1, 4], [], 4, 4),
      /binary operand shapes do not broadcast/,
    ],
    [
      'a binary kind other than add and mul',
      runs([OP.save, 0, 2, OP.binary, 2, 0, 0, 1, 2, 2, 2], [], 2, 2),
      /binary kind must be 0 \(add\) or 1 \(mul\)/,
    ],
    ['a rank past the limit', runs([OP.save, 0, 1, OP.binary, 0, 0, 0, 7], [], 1, 1), /binary rank is above the limit/],
    [
      'a concat reading the current value twice',
      runs([OP.concat, 2, 1, -1, 2, -1, 2], [], 2, 4),
      /concat reads the current value twice/,
    ],
    [
      'a concat slot of the wrong size',
      runs([OP.save, 0, 2, OP.concat, 2, 1, -1, 2, 0, 3], [], 2, 5),
      /concat slot 0 does not hold 3 values/,
    ],
    ['a slice past the end', runs([OP.slice, 1, 5, 1, 2, 3], [], 5, 3), /slice reads past the end of its input/],
    ['a pad value that is not one float', runs([OP.pad, 1, 3, 1, 1, 0], [f(2)], 3, 5), /pad value length 2 != 1/],
    ['clamp bounds that are not two floats', runs([OP.clamp, 3, 0], [f(3)], 3, 3), /clamp bounds length 3 != 2/],
    [
      'a sigmoid of the wrong size',
      runs([OP.relu, 3, OP.sigmoid, 4], [], 3, 4),
      /op 1 takes 4 values per image but the previous op gives 3/,
    ],
    ['a descriptor that ends inside an op', runs([OP.pad, 2, 3], [], 3, 3), /descriptor ends inside an op/],
  ])('%s', (_name, call, message) => {
    expectErrorNamed(call, 'RangeError', message);
  });

  test('a valid hand-written program: x + (x sliced every 2nd value, padded back to size)', () => {
    // x [4] -> save; slice start 0 step 2 -> [2]; pad [0, 2] -> [4]; add slot 0.
    const x = Float32Array.of(1, 2, 3, 4);
    const out = f(4);
    const code = [OP.save, 0, 4, OP.slice, 1, 4, 0, 2, 2, OP.pad, 1, 2, 0, 2, 0, OP.binary, 0, 0, 0, 1, 4, 4, 4];
    native.runProgram(Int32Array.from(code), [Float32Array.of(10)], x, out, 1);
    expect(Array.from(out)).toEqual([1 + 1, 3 + 2, 10 + 3, 10 + 4]);
  });

  test('compiled graph programs with random fields changed give a RangeError or run, never crash', () => {
    const rng = new Generator(5);
    let ran = 0;
    for (const [, shape, make] of cases) {
      const sample = shape.slice(1);
      const program = compileGraphProgram(make(), sample)!;
      const inSize = sample.reduce((a, b) => a * b, 1);
      const outSize = program.outShape.reduce((a, b) => a * b, 1);
      for (let trial = 0; trial < 400; trial++) {
        const code = program.code.slice();
        for (let k = 1 + rng.randint(3); k > 0; k--) code[rng.randint(code.length)] = rng.randint(72) - 2;
        try {
          native.runProgram(code, program.params, f(2 * inSize), f(2 * outSize), 2);
          ran++;
        } catch (err) {
          expect((err as Error).name).toBe('RangeError');
        }
      }
    }
    expect(ran).toBeGreaterThan(10); // some changes keep the program valid, and it runs
  });
});
