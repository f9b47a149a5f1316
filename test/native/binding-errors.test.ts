// SPDX-License-Identifier: MIT
// Argument validation of every binding export (TypeError/RangeError naming op and argument), aliasing, views, NaN/Inf data and a fuzz loop.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from './reference';
import { INITIAL_ISA, ISAS, addon, restore, setIsa } from './isa';
import {
  Arg,
  FILL_MODES,
  SPECS,
  SENTINEL,
  Spec,
  Typed,
  arityOf,
  detach,
  expectError,
  fillNonFinite,
  fuzzValue,
  invoke,
  isBuffer,
  isError,
  labelOf,
  packViews,
  show,
  viewAt,
} from './binding-specs';

const with1 = (args: readonly unknown[], i: number, v: unknown) => args.map((a, j) => (j === i ? v : a));
const lengthOf = (a: unknown) => (a as Typed).length;
const FLAGS = ['ceilMode', 'fuseRelu', 'overwriteDinput', 'step']; // sizes where 2^40 is a valid value

/** Things that are not the typed array `arg` wants (same element count where that means anything). */
function wrongKinds(arg: Arg, n: number): unknown[] {
  const right = () => (arg.kind === 'i32' ? new Int32Array(n) : new Float32Array(n));
  const bad: unknown[] = [
    new Array(n).fill(0),
    new Float64Array(n),
    arg.kind === 'i32' ? new Float32Array(n) : new Int32Array(n),
    new Uint8Array(4 * n),
    new Uint32Array(n),
    new DataView(new ArrayBuffer(4 * n)),
    new ArrayBuffer(4 * n),
    new Proxy(right(), {}),
    3,
    '3',
    true,
    3n,
    {},
    { length: n },
    () => 0,
    Symbol('x'),
  ];
  return arg.kind === 'f32?' ? bad : [...bad, null, undefined];
}
const NOT_NUMBERS = ['3', null, undefined, true, 3n, [3], {}, new Number(3), new Float32Array(1)];
const BAD_SIZES = [
  -1,
  0.5,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 40 + 1,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
];

describe.each(SPECS.map((s): [string, Spec] => [labelOf(s), s]))('%s', (_label, spec) => {
  const op = spec.op,
    rng = new Rng(_label.length * 977);
  const valid = () => spec.valid(rng);
  const indexed = spec.args.map((a, i): [string, Arg, number] => [a.name, a, i]);
  const buffers = indexed.filter(([, a]) => isBuffer(a));
  const sizes = indexed.filter(([, a]) => a.kind === 'size' || a.kind === 'size0');
  const numbers = indexed.filter(([, a]) => a.kind === 'number');
  const msg = (rest: string) => new RegExp(`^${op}: ${rest}`);

  test('a valid call succeeds', () => expect(() => invoke(op, valid())).not.toThrow());

  test('wrong arity is a TypeError naming the op and both counts', () => {
    const [min, max] = arityOf(spec),
      args = valid(),
      expected = min === max ? `${min}` : `${min} to ${max}`;
    for (const count of [min - 1, max + 1, 0]) {
      const call = Array.from({ length: count }, (_, i) => args[i] ?? 0);
      expectError(() => invoke(op, call), 'TypeError', msg(`expected ${expected} arguments, got ${count}$`));
    }
  });

  test.each(buffers)('%s: a wrong kind of value is a TypeError', (name, a, i) => {
    const args = valid(),
      type = a.kind === 'i32' ? 'Int32Array' : 'Float32Array';
    for (const bad of wrongKinds(a, lengthOf(args[i]))) {
      expectError(
        () => invoke(op, with1(args, i, bad)),
        'TypeError',
        msg(`${name} must be a ${type}( or null)?, got `),
      );
    }
    if (a.kind === 'f32?')
      for (const none of [null, undefined]) expect(() => invoke(op, with1(valid(), i, none))).not.toThrow();
  });

  test.each(buffers)('%s: a wrong length or a detached buffer is a RangeError', (name, a, i) => {
    const args = valid(),
      n = lengthOf(args[i]);
    const make = (len: number) => (a.kind === 'i32' ? new Int32Array(len) : new Float32Array(len));
    for (const len of [n + 1, n - 1, 0, 2 * n]) {
      const re =
        name === spec.driver
          ? msg(`(\\w+ length \\d+ != |${name} must not be empty)`)
          : msg(`${name} length ${len} != `);
      expectError(() => invoke(op, with1(args, i, make(len))), 'RangeError', re);
    }
    const gone = (args[i] as Typed).slice();
    detach(gone);
    expect(gone.length).toBe(0);
    expectError(() => invoke(op, with1(args, i, gone)), 'RangeError', msg(`${name}( length 0 | must not be empty)`));
  });

  if (sizes.length) {
    test.each(sizes)('%s: a bad size is a RangeError, a non-number a TypeError', (name, a, i) => {
      const args = valid(),
        min = a.kind === 'size' ? 1 : 0;
      for (const bad of [...BAD_SIZES, min - 1]) {
        expectError(
          () => invoke(op, with1(args, i, bad)),
          'RangeError',
          msg(`${name} must be an integer >= ${min}, got `),
        );
      }
      for (const bad of NOT_NUMBERS)
        expectError(() => invoke(op, with1(args, i, bad)), 'TypeError', msg(`${name} must be a number, got `));
      // The largest accepted size is still refused later (by a product, the output size or a buffer length).
      if (!FLAGS.includes(name)) expectError(() => invoke(op, with1(args, i, 2 ** 40)), 'RangeError', msg(''));
    });
  }

  if (numbers.length) {
    test.each(numbers)('%s: a non-finite value is a RangeError, a non-number a TypeError', (name, _a, i) => {
      const args = valid();
      for (const bad of [NaN, Infinity, -Infinity]) {
        expectError(() => invoke(op, with1(args, i, bad)), 'RangeError', msg(`${name} must be a finite number`));
      }
      for (const bad of NOT_NUMBERS)
        expectError(() => invoke(op, with1(args, i, bad)), 'TypeError', msg(`${name} must be a number, got `));
    });
  }

  // Every (output, other buffer) pair, in three layouts: output one element after, before, or at the same start.
  const pairs = buffers.flatMap(([o, oa, oi]) =>
    oa.output
      ? buffers
          .filter(([b, ba, bi]) => b !== o && (!ba.output || bi > oi))
          .map(([b, , bi]): [string, string, number, number] => [o, b, oi, bi])
      : [],
  );
  test.each(pairs)('%s overlapping %s is a RangeError', (o, b, oi, bi) => {
    const args = valid(),
      lo = lengthOf(args[oi]),
      lb = lengthOf(args[bi]);
    for (const [ao, ab] of [
      [1, 0],
      [0, 1],
      [0, 0],
    ]) {
      const backing = new ArrayBuffer(4 * (Math.max(ao + lo, ab + lb) + 1));
      const views = args.slice();
      views[oi] = viewAt(backing, ao, args[oi] as Typed); // written first: the input's contents win where they overlap
      views[bi] = viewAt(backing, ab, args[bi] as Typed);
      if ((op === 'reluForward' || ((op === 'add' || op === 'addRelu') && b === 'a')) && ao === ab) {
        expect(() => invoke(op, views)).not.toThrow(); // exactly in place is allowed
        continue;
      }
      expectError(() => invoke(op, views), 'RangeError', msg(`(${o} overlaps ${b}|${b} overlaps ${o}) in memory`));
    }
  });

  test.each(ISAS)(
    'isa %s: unaligned views at byte offsets of one ArrayBuffer give the same results, gaps untouched',
    (isa) => {
      try {
        setIsa(isa);
        const args = valid();
        const { packed, gaps } = packViews(args.map((a) => (ArrayBuffer.isView(a) ? (a as Typed).slice() : a)));
        expect(invoke(op, packed)).toEqual(invoke(op, args));
        args.forEach(
          (a, i) => ArrayBuffer.isView(a) && expect(Array.from(packed[i] as Typed)).toEqual(Array.from(a as Typed)),
        );
        expect(gaps().every((g) => g === SENTINEL)).toBe(true);
      } finally {
        restore();
      }
    },
  );
});

describe('value checks with the exact message', () => {
  const call = (label: string, set: Record<string, unknown>) => () => {
    const s = SPECS.find((x) => labelOf(x) === label)!,
      args = s.valid(new Rng(1));
    return invoke(
      s.op,
      args.map((a, i) => (s.args[i].name in set ? set[s.args[i].name] : a)),
    );
  };
  const big = 2 ** 20,
    poolOut = 2 * 3 * 4 * 4;
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['conv2dForward', { groups: 3 }, /^conv2dForward: groups 3 must divide c 4 and outChannels 6$/],
    ['conv2dBackward', { groups: 4 }, /^conv2dBackward: groups 4 must divide c 4 and outChannels 6$/],
    [
      'conv2dForward',
      { kernelW: 9 },
      /^conv2dForward: kernel 3x9 \(dilated, with padding\) does not fit the input 6x5$/,
    ],
    ['conv2dForward', { dilationH: 4 }, /^conv2dForward: kernel 3x2 .*does not fit/],
    ['conv2dBackward', { padH: 0, kernelH: 7 }, /^conv2dBackward: kernel 7x2 .*does not fit/],
    [
      'conv2dTransposeForward',
      { groups: 4 },
      /^conv2dTransposeForward: groups 4 must divide inChannels 6 and outChannels 4$/,
    ],
    [
      'conv2dTransposeForward',
      { outH: 8 },
      /^conv2dTransposeForward: output 8x5 does not match the input 3x3: its Conv2d gives 4x3$/,
    ],
    [
      'conv2dTransposeForward',
      { outW: 2 },
      /^conv2dTransposeForward: output 6x2 does not match the input 3x3: its Conv2d gives 3x0$/,
    ],
    [
      'conv2dForward',
      { n: big, c: big, h: big, w: big, outChannels: 1, groups: 1, kernelH: 1, kernelW: 1, dilationW: 1 },
      /^conv2dForward: input is too large$/,
    ],
    [
      'conv2dForward',
      { n: 1, c: 1, h: 2 ** 10, w: 2 ** 10, outChannels: 2 ** 30, groups: 1 },
      /^conv2dForward: output is too large$/,
    ],
    ['upsample2dForward', { bilinear: 0, alignCorners: 1 }, /^upsample2dForward: alignCorners 1 needs bilinear mode$/],
    ['upsample2dBackward', { bilinear: 2 }, /^upsample2dBackward: bilinear must be 0 or 1, got 2$/],
    [
      'upsample2dForward',
      { scaleH: 1.5 },
      /^upsample2dForward: scaleH 1.5 does not give the output size 7 from 4 \(floor\(in \* scale\)\)$/,
    ],
    ['upsample2dBackward', { scaleW: -1 }, /^upsample2dBackward: scaleW must be a finite number in \[0, /],
    ['maxPool2dForward', { padH: 2 }, /^maxPool2dForward: padding 2x1 must be at most half the kernel 3x2$/],
    ['maxPool2dBackward', { kernelW: 1 }, /^maxPool2dBackward: padding 1x1 must be at most half the kernel 3x1$/],
    ['maxPool2dForward', { kernelH: 10, ceilMode: 0 }, /^maxPool2dForward: kernel 10x2 does not fit the input 7x6$/],
    ['maxPool2dForward', { n: big, c: big, h: big, w: big }, /^maxPool2dForward: input is too large$/],
    [
      'maxPool2dForward',
      { n: 1, c: 1, h: 2 ** 16, w: 2 ** 16 },
      /^maxPool2dForward: input plane is too large for int32 argmax$/,
    ],
    [
      'maxPool2dBackward',
      { argmax: new Int32Array(poolOut).fill(-1) },
      /^maxPool2dBackward: argmax\[0\] = -1 is outside the H\*W plane of 42$/,
    ],
    [
      'maxPool2dBackward',
      { argmax: Int32Array.from({ length: poolOut }, (_, i) => (i === poolOut - 1 ? 42 : 0)) },
      /argmax\[95\] = 42 is outside/,
    ],
    [
      'maxPool2dForward with dilation',
      { dilationH: 5 },
      /^maxPool2dForward: kernel 3x2 \(dilation 5x3\) does not fit the input 7x6$/,
    ],
    [
      'maxPool2dBackward with dilation',
      { padW: 2 },
      /^maxPool2dBackward: padding 1x2 must be at most half the kernel 3x2$/,
    ],
    [
      'maxPool2dForward with dilation',
      { h: 1, kernelH: 2, dilationH: 2 },
      /^maxPool2dForward: kernel 2x2 \(dilation 2x3\) has a window holding only padding on the input 1x6$/,
    ],
    [
      'maxPool2dBackward with dilation',
      { w: 2, dilationW: 3 },
      /^maxPool2dBackward: kernel 3x2 \(dilation 2x3\) has a window holding only padding on the input 7x2$/,
    ],
    ['linearForward', { batch: 2 ** 30, outFeatures: 2 ** 20 }, /^linearForward: output is too large$/],
    ['linearBackward', { outFeatures: 2 ** 40, inFeatures: 2 ** 40 }, /^linearBackward: input is too large$/],
    [
      'crossEntropyForward',
      { targets: new Int32Array([0, -1, 0]) },
      /^crossEntropyForward: targets\[1\] = -1 is not a class index in \[0, 6\)$/,
    ],
    ['crossEntropyForward', { targets: new Int32Array([0, 0, 6]) }, /^crossEntropyForward: targets\[2\] = 6 is not/],
    [
      'crossEntropyBackward',
      { targets: new Int32Array([2 ** 31 - 1, 0, 0]) },
      /^crossEntropyBackward: targets\[0\] = 2147483647 is not/,
    ],
    ['crossEntropyBackward', { batch: 2 ** 30, classes: 2 ** 30 }, /^crossEntropyBackward: logits is too large$/],
    ['adamStep', { beta1: 1 }, /^adamStep: betas must be < 1$/],
    ['adamStep', { beta2: 1 }, /^adamStep: betas must be < 1$/],
    ['adamStep', { beta1: 1.5 }, /^adamStep: beta1 must be a finite number in \[0, 1\], got 1.5$/],
    ['adamStep', { beta2: -0.1 }, /^adamStep: beta2 must be a finite number in \[0, 1\], got -0.1$/],
    ['adamStep', { lr: -1 }, /^adamStep: lr must be a finite number in \[0, Infinity\], got -1$/],
    ['adamStep', { eps: -1e-8 }, /^adamStep: eps must be/],
    ['adamStep', { weightDecay: -0.5 }, /^adamStep: weightDecay must be/],
    ['adamStep', { step: 0 }, /^adamStep: step must be an integer >= 1, got 0$/],
    ['adamStep', { param: new Float32Array(0) }, /^adamStep: param must not be empty$/],
    ['reluForward', { out: new Float32Array(0), input: new Float32Array(0) }, /^reluForward: input must not be empty$/],
    ['reluBackward', { doutput: new Float32Array(0) }, /^reluBackward: doutput must not be empty$/],
    ['reluForward', { out: new Float32Array(3) }, /^reluForward: out length 3 != input length = 10$/],
  ])('%s with %p', (op, set, re) => {
    expectError(call(op, set), 'RangeError', re);
  });

  test('kernelInfo names the ISA of every kernel', () => {
    const info = addon.kernelInfo();
    expect(typeof info.isa).toBe('string');
    expect(typeof info.openmp).toBe('boolean');
    for (const k of ['conv2d', 'maxpool2d', 'linear', 'relu', 'crossEntropy', 'adam'])
      expect(typeof info.kernels[k]).toBe('string');
  });

  const setIsa = addon.setIsa,
    setNumThreads = addon.setNumThreads;
  test('setIsa and setNumThreads check their argument', () => {
    try {
      for (const isa of addon.kernelInfo().supportedIsas ?? []) expect(setIsa!(isa)).toBe(isa);
      expect(addon.kernelInfo().supportedIsas).toContain(setIsa!('auto'));
      expectError(
        () => setIsa!('sse9'),
        'RangeError',
        /^setIsa: 'sse9' is not supported on this CPU\/build \(choose one of: auto, ref/,
      );
      for (const bad of [3, null, undefined, {}])
        expectError(() => setIsa!(bad), 'TypeError', /^setIsa: name must be a string, got /);
      expectError(
        () => (setIsa as (...a: unknown[]) => string)(),
        'TypeError',
        /^setIsa: expected 1 arguments, got 0$/,
      );
      expect(addon.kernelInfo().isa).toBe(setIsa!(INITIAL_ISA));
      for (const n of [1, 3, 1024]) {
        setNumThreads!(n);
        expect(addon.kernelInfo().threads).toBe(n);
      }
      for (const bad of [0, -1, 1.5, NaN, 1025, 2 ** 40])
        expectError(() => setNumThreads!(bad), 'RangeError', /^setNumThreads: n must be /);
      for (const bad of ['2', null, 2n])
        expectError(() => setNumThreads!(bad), 'TypeError', /^setNumThreads: n must be a number, got /);
    } finally {
      restore();
    }
  });

  test('typed arrays on a SharedArrayBuffer work, or are refused with a TypeError naming the op and argument', () => {
    const problems: string[] = [];
    for (const s of SPECS) {
      const args = s.valid(new Rng(3));
      const { packed } = packViews(
        args.map((a) => (ArrayBuffer.isView(a) ? (a as Typed).slice() : a)),
        1,
        SharedArrayBuffer,
      );
      try {
        if (JSON.stringify(invoke(s.op, packed)) !== JSON.stringify(invoke(s.op, args)))
          problems.push(`${labelOf(s)}: other result`);
      } catch (e) {
        if (!isError(e, 'TypeError') || !e.message.startsWith(`${s.op}: `))
          problems.push(`${labelOf(s)}: ${String(e)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  // Runs `script` (with `b` = the addon, or the WebAssembly build when that is what this run tests) in a child
  // process, so a crash or a hang fails one test instead of the run.
  const child = (script: string, timeout: number) => {
    const addonFile = [
      process.env.SIMDNET_ADDON_PATH ?? '',
      ...['Release', 'Debug'].map((d) => path.join(__dirname, '..', '..', 'build', d, 'simdnet.node')),
    ].find((f) => f && fs.existsSync(f));
    const wasmLoader = path.join(__dirname, '..', '..', 'dist', 'backend', 'wasm-node.js'); // built by pretest
    const load =
      addon.kernelInfo().backend === 'wasm'
        ? `require(${JSON.stringify(wasmLoader)}).loadWasmBinding()`
        : `require(${JSON.stringify(addonFile)})`;
    const code = `const b = ${load};
      try { ${script}; console.log('returned'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout });
    return { signal: r.signal, status: r.status, stdout: r.stdout.trim() };
  };

  test('a dilated kernel extent past int64 (2^40 * 2^24) is a RangeError, not a crash', () => {
    const r = child(
      `const kh = 2 ** 24 + 1; b.conv2dForward(new Float32Array(1), new Float32Array([2]), new Float32Array(kh), null,
      1, 1, 1, 1, 1, kh, 1, 1, 1, 0, 0, 2 ** 40, 1, 1)`,
      60000,
    );
    expect(r).toEqual({ signal: null, status: 0, stdout: expect.stringMatching(/^RangeError: conv2dForward: /) });
  });

  test('max pooling a 1x1 input with a 2^36 window (half of it padding) returns instead of looping over the window', () => {
    const k = 2 ** 36;
    const r = child(
      `b.maxPool2dForward(new Float32Array(1), new Int32Array(1), new Float32Array([5]), 1, 1, 1, 1,
      ${k}, ${k}, ${k}, ${k}, ${k / 2}, ${k / 2}, 0)`,
      60000, // looping over the window would take years: a minute tells that apart on any machine, however busy
    );
    expect(r).toEqual({ signal: null, status: 0, stdout: 'returned' });
  });
});

describe('non-finite values in the data buffers', () => {
  // Every float buffer at once, then each alone, in each fill mode, on every ISA: a NaN or an infinity is data, never a reason
  // to crash, hang or write outside the outputs. (nonfinite.test.ts checks the values against PyTorch's rules.)
  test.each(SPECS.map((s): [string, Spec] => [labelOf(s), s]))(
    '%s: NaN/±Inf data works or throws TypeError/RangeError naming the op',
    (label, spec) => {
      const rng = new Rng(label.length * 131 + 7);
      const floats = spec.args.filter((a) => a.kind === 'f32' || a.kind === 'f32?').map((a) => a.name);
      const bad: string[] = [];
      let ok = 0;
      try {
        for (const isa of ISAS) {
          setIsa(isa);
          for (const mode of FILL_MODES) {
            for (const which of ['all', ...floats]) {
              const args = spec.valid(rng);
              spec.args.forEach((a, i) => {
                if ((which === 'all' || which === a.name) && args[i] instanceof Float32Array)
                  fillNonFinite(args[i] as Float32Array, mode, rng);
              });
              const { packed, gaps } = packViews(args);
              const where = `${isa} ${mode} in ${which}`;
              try {
                invoke(spec.op, packed);
                ok++;
              } catch (e) {
                if (!(isError(e, 'TypeError') || isError(e, 'RangeError')) || !e.message.startsWith(`${spec.op}: `))
                  bad.push(`${where}: ${String(e)}`);
              }
              if (!gaps().every((g) => g === SENTINEL)) bad.push(`${where}: wrote outside its outputs`);
              if (spec.op === 'maxPool2dForward') {
                // argmax must stay inside its H*W plane whatever the values: maxPool2dBackward writes there.
                const plane =
                  (packed[spec.args.findIndex((a) => a.name === 'h')] as number) *
                  (packed[spec.args.findIndex((a) => a.name === 'w')] as number);
                if (!(packed[1] as Int32Array).every((v) => v >= 0 && v < plane))
                  bad.push(`${where}: argmax outside [0, ${plane})`);
              }
            }
          }
        }
      } finally {
        restore();
      }
      expect(bad).toEqual([]);
      expect(ok).toBe(ISAS.length * FILL_MODES.length * (floats.length + 1)); // none is refused today
    },
  );
});

describe('fuzz: random argument mutations', () => {
  test.each(SPECS.map((s): [string, Spec] => [labelOf(s), s]))(
    '%s: 3000 calls either work or throw TypeError/RangeError naming the op',
    (label, spec) => {
      const rng = new Rng(label.length * 7907 + 1);
      const counts = { ok: 0, TypeError: 0, RangeError: 0 };
      const bad: string[] = [];
      for (let iter = 0; iter < 3000; iter++) {
        let args = spec.valid(rng);
        const changes: string[] = [];
        for (let m = rng.int(1, 3); m > 0; m--) {
          const r = rng.next();
          if (r < 0.04) {
            args = args.slice(0, rng.int(0, args.length - 1));
            changes.push(`truncated to ${args.length}`);
          } else if (r < 0.08) {
            args = [...args, fuzzValue(rng, args, args.length)];
            changes.push(`appended ${show(args[args.length - 1])}`);
          } else if (args.length) {
            const i = rng.int(0, args.length - 1);
            args[i] = fuzzValue(rng, args, i, spec.args[i]);
            changes.push(`${spec.args[i]?.name ?? i} = ${show(args[i])}`);
          }
        }
        try {
          invoke(spec.op, args);
          counts.ok++;
        } catch (e) {
          const kind = isError(e, 'TypeError') ? 'TypeError' : isError(e, 'RangeError') ? 'RangeError' : null;
          if (kind && (e as Error).message.startsWith(`${spec.op}: `)) counts[kind]++;
          else if (bad.length < 5)
            bad.push(
              `#${iter} [${changes.join('; ')}] -> ${isError(e, 'Error') ? `${e.name}: ${e.message}` : String(e)}`,
            );
        }
      }
      expect(bad).toEqual([]);
      expect(counts.TypeError).toBeGreaterThan(100);
      expect(counts.RangeError).toBeGreaterThan(100);
      // Still alive, and still right: a valid call after the storm.
      const out = new Float32Array(3);
      invoke('reluForward', [out, new Float32Array([-1, 2, NaN])]);
      expect(Array.from(out)).toEqual([0, 2, NaN]);
    },
  );
});
