// SPDX-License-Identifier: MIT
// Residual fusion (lib/modules/program-residual.ts, kOpConvAdd): a conv with the shortcut added in its epilogue gives
// bit for bit what the conv followed by the add (and the slice and channel padding of option A) as ops of their own
// gives, on every ISA and thread count; ResNets compile to it and predict as their eval-mode forward.
import { Conv2d } from '../../lib/modules/conv2d';
import { GraphBuilder } from '../../lib/modules/graph-builder';
import { compileGraphProgram } from '../../lib/modules/program';
import { OP } from '../../lib/modules/program-code';
import { ResNet } from '../../lib/models/resnet';
import { native } from '../../lib/native';
import { Generator } from '../../lib/random';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { describeEachIsa, restore, setThreads } from '../native/isa';

afterAll(restore);

/** [name, c, h, w, oc, stride]: the shapes of ResNet-20's kernel paths, and a small odd one. */
const shapes: [string, number, number, number, number, number][] = [
  ['16 channels, 32 px (row-direct)', 16, 32, 32, 16, 1],
  ['16 -> 32 channels, stride 2 (option A)', 16, 32, 32, 32, 2],
  ['32 channels, 16 px (channel tiles)', 32, 16, 16, 32, 1],
  ['32 -> 64 channels, stride 2, 9 px (option A)', 32, 17, 17, 64, 2],
  ['3 -> 5 channels, 7 x 9, stride 2 (option A, GEMM)', 3, 7, 9, 5, 2],
];

/**
 * The unfused and fused programs of relu(conv(x) + shortcut(x)): shortcut(x) = x for stride 1, else x[:, :, ::2, ::2]
 * with zero channels, half before and half after.
 */
function programs(c: number, h: number, w: number, oc: number, stride: number): [number[], number[]] {
  const oh = Math.floor((h - 1) / stride) + 1;
  const ow = Math.floor((w - 1) / stride) + 1;
  const conv = (relu: number) => [c, h, w, oc, 3, 3, stride, stride, 1, 1, 1, 1, 1, relu, 0, 1];
  const out = [oc, oh, ow];
  const size = c * h * w;
  const outSize = oc * oh * ow;
  if (stride === 1) {
    const unfused = [OP.save, 0, size, OP.conv, ...conv(0), OP.binary, 0, 1, 0, 3, ...out, ...out, ...out];
    return [unfused, [OP.convAdd, ...conv(1), -1, c, h, w, 0, 0, 0, 1, 1, 1, 0, c]];
  }
  const before = Math.floor((oc - c) / 2);
  const unfused = [
    ...[OP.save, 0, size, OP.conv, ...conv(0), OP.save, 1, outSize, OP.load, 0, size],
    ...[OP.slice, 3, c, h, w, 0, 0, 0, 1, 2, 2, c, oh, ow],
    ...[OP.pad, 3, c, oh, ow, before, 0, 0, oc - c - before, 0, 0, 2],
    ...[OP.binary, 0, 1, 1, 3, ...out, ...out, ...out],
  ];
  return [unfused, [OP.convAdd, ...conv(1), -1, c, h, w, 0, 0, 0, 1, 2, 2, before, c]];
}

describeEachIsa(() => {
  test.each(shapes)('%s: the fused residual equals conv, add and ReLU as ops', (_name, c, h, w, oc, stride) => {
    const rng = new Generator(c + oc);
    const weight = Float32Array.from({ length: oc * c * 9 }, () => rng.uniform(-0.3, 0.3));
    const bias = Float32Array.from({ length: oc }, () => rng.uniform(-0.5, 0.5));
    const params = [weight, bias, Float32Array.of(0)];
    const [unfused, fused] = programs(c, h, w, oc, stride);
    const outSize = oc * (Math.floor((h - 1) / stride) + 1) * (Math.floor((w - 1) / stride) + 1);
    for (const n of [1, 3]) {
      const x = randomTensor([n, c, h, w], n).data;
      const want = new Float32Array(n * outSize);
      setThreads(1);
      native.runProgram(Int32Array.from(unfused), params, x, want, n);
      for (const threads of [1, 2]) {
        setThreads(threads);
        const got = new Float32Array(n * outSize);
        native.runProgram(Int32Array.from(fused), params, x, got, n);
        expectAllClose(got, want, 0, 0, `batch ${n}, ${threads} threads`);
      }
    }
  });
});

/** A ResNet with random BatchNorm statistics (so the folds matter). */
function resnet(shortcut: 'A' | 'B'): ResNet {
  const model = new ResNet({ depth: 8, shortcut });
  const rng = new Generator(7);
  const fill = (data: Float32Array, lo: number, hi: number) => data.forEach((_, i) => (data[i] = rng.uniform(lo, hi)));
  for (const [name, t] of model.namedBuffers()) {
    if (name.endsWith('running_mean')) fill(t.data, -0.3, 0.3);
    if (name.endsWith('running_var')) fill(t.data, 0.5, 2);
  }
  for (const [name, p] of model.namedParameters()) {
    if (/(bn\d?|proj\.1)\.weight$/.test(name)) fill(p.data.data, 0.5, 1.5);
    if (/(bn\d?|proj\.1)\.bias$/.test(name)) fill(p.data.data, -0.2, 0.2);
  }
  return model;
}

/** The op codes of a compiled ResNet program, in order (a walk over the fields of the ops such programs hold). */
/** Where each op of a program's code starts. */
function opStarts(code: Int32Array): number[] {
  const starts: number[] = [];
  for (let i = 0; i < code.length;) {
    const op = code[i];
    starts.push(i);
    if (op === OP.conv) i += 17;
    else if (op === OP.convAdd) i += 29;
    else if (op === OP.save || op === OP.load) i += 3;
    else if (op === OP.linear) i += 6;
    else if (op === OP.relu) i += 2;
    else if (op === OP.binary) i += 5 + 3 * code[i + 4];
    else if (op === OP.slice) i += 2 + 4 * code[i + 1];
    else if (op === OP.pad) i += 3 + 3 * code[i + 1];
    else if (op === OP.avgPool) i += 6 + 2 * code[i + 4] + 2 * code[i + 5] + code[i + 4] * code[i + 5];
    else throw new Error(`opStarts: op ${op} at ${i}`);
  }
  return starts;
}

function opCodes(code: Int32Array): number[] {
  return opStarts(code).map((i) => code[i]);
}

describe('ResNets compile their shortcuts into the convs', () => {
  test.each(['A', 'B'] as const)('shortcut %s: no add, slice or pad op; predict() equals the forward', (shortcut) => {
    const model = resnet(shortcut);
    const program = compileGraphProgram(model, [3, 12, 12])!;
    expect(program).not.toBeNull();
    const ops = opCodes(program.code);
    // Three blocks: the second conv of each takes its shortcut; no add, slice or pad runs on its own.
    expect(ops.filter((op) => op === OP.convAdd).length).toBe(3);
    expect(ops.filter((op) => op === OP.binary || op === OP.slice || op === OP.pad)).toEqual([]);
    // A block's output is saved into another slot than its shortcut's, so the conv writes it there (no copy).
    const starts = opStarts(program.code);
    for (const [j, i] of starts.entries()) {
      const next = starts[j + 1];
      if (program.code[i] !== OP.convAdd || next === undefined || program.code[next] !== OP.save) continue;
      expect(program.code[next + 1]).not.toBe(program.code[i + 17]);
    }
    model.eval();
    for (const n of [1, 2]) {
      const x = randomTensor([n, 3, 12, 12], n + 3);
      const want = model.forward(x).data;
      for (const threads of [1, 2]) {
        setThreads(threads);
        expectAllClose(model.predict(x).data, want, 1e-4, 1e-4, `batch ${n}, ${threads} threads`);
      }
    }
  });

  test('a shortcut computed between the two convs is kept in a slot for the second', () => {
    const g = new GraphBuilder();
    const x = g.input();
    const conv = (name: string, k: number) =>
      g.layer(name, new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: k, padding: (k - 1) / 2 }));
    const y = conv('c1', 3)(x);
    const shortcut = conv('proj', 1)(x);
    const model = g.build(g.relu(g.add(conv('c2', 3)(g.relu(y)), shortcut)));
    const ops = opCodes(compileGraphProgram(model, [2, 5, 5])!.code);
    expect(ops).toContain(OP.convAdd);
    expect(ops).not.toContain(OP.binary);
    const input = randomTensor([2, 2, 5, 5], 2);
    model.eval();
    expectAllClose(model.predict(input).data, model.forward(input).data, 1e-6, 1e-6, 'predict');
  });

  test('a conv whose output is read twice keeps the add as an op', () => {
    const g = new GraphBuilder();
    const x = g.input();
    const y = g.layer('c', new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, padding: 1 }))(x);
    const model = g.build(g.add(g.add(y, x), y));
    const program = compileGraphProgram(model, [2, 5, 5])!;
    expect(Array.from(program.code)).toContain(OP.binary);
    const input = randomTensor([2, 2, 5, 5], 1);
    model.eval();
    expectAllClose(model.predict(input).data, model.forward(input).data, 1e-6, 1e-6, 'predict');
  });
});

describe('runProgram rejects malformed conv residuals', () => {
  const conv = [2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, -1];
  const runs = (residual: number[]) => () =>
    native.runProgram(
      Int32Array.from([OP.convAdd, ...conv, ...residual]),
      [new Float32Array(36)],
      new Float32Array(32),
      new Float32Array(32),
      1,
    );
  test.each([
    ['a read past the rows', [-1, 2, 4, 4, 0, 1, 0, 1, 1, 1, 0, 2], /reads past the end/],
    ['channels past the output', [-1, 2, 4, 4, 0, 0, 0, 1, 1, 1, 1, 2], /past the conv's output channels/],
    ['an input-sized residual of another size', [-1, 1, 4, 4, 0, 0, 0, 1, 1, 1, 0, 1], /must have its 32 values/],
    ['an empty slot', [3, 2, 4, 4, 0, 0, 0, 1, 1, 1, 0, 2], /slot 3 does not hold 32 values/],
    ['a huge value', [-1, 2 ** 24, 2 ** 24, 2 ** 24, 0, 0, 0, 1, 1, 1, 0, 2], /too large/],
    ['a count of 0', [-1, 2, 4, 4, 0, 0, 0, 1, 1, 1, 0, 0], /residual count = 0 is out of range/],
  ])('%s', (_name, residual, message) => {
    expectErrorNamed(runs(residual as number[]), 'RangeError', message as RegExp);
  });
});
