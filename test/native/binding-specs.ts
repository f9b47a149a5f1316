// SPDX-License-Identifier: MIT
// Argument descriptions and valid small calls for every binding export, error helpers, non-finite fills; shared by the error and fuzz tests.
import { native } from '../../lib/native';
import { ConvShape, PoolShape, Rng, convArgs, convSizes, maxPool2dForward, poolArgs, poolSizes } from './reference';

/** 'f64' (a Float64Array) is not a buffer to the generic checks; window-mean.test.ts checks its errors. */
export type Kind = 'f32' | 'f32?' | 'i32' | 'f64' | 'size' | 'size0' | 'number';
export interface Arg {
  name: string;
  kind: Kind;
  output: boolean;
}
export type Op = Exclude<keyof typeof native, 'kernelInfo'>;
export interface Spec {
  op: Op;
  /** A name for the test titles when one op has several specs. */
  label?: string;
  args: Arg[];
  /** Accepted argument counts [min, max] when trailing arguments are optional; default: exactly args.length. */
  arity?: [number, number];
  /** Fresh, valid arguments for a small shape. */
  valid(rng: Rng): unknown[];
  /** The buffer whose length sets the element count (relu, adam); a wrong length there is reported on another buffer. */
  driver?: string;
}

const arg =
  (kind: Kind, output = false) =>
  (name: string): Arg => ({ name, kind, output });
const f32 = (name: string, output = false) => arg('f32', output)(name);
const opt = (name: string, output = false) => arg('f32?', output)(name);
const i32 = (name: string, output = false) => arg('i32', output)(name);
const f64 = arg('f64');
const size = arg('size'),
  num = arg('number');
const sizes = (names: string) =>
  names.split(' ').map((n) => arg(n.startsWith('pad') || n === 'ceilMode' ? 'size0' : 'size')(n));

const CONV_SIZES = sizes('n c h w outChannels kernelH kernelW strideH strideW padH padW dilationH dilationW groups');
const POOL_SIZES = sizes('n c h w kernelH kernelW strideH strideW padH padW ceilMode');
const POOL_DILATION = sizes('dilationH dilationW');

export const CONV: ConvShape = {
  n: 2,
  c: 4,
  h: 6,
  w: 5,
  oc: 6,
  kh: 3,
  kw: 2,
  sh: 2,
  sw: 1,
  ph: 1,
  pw: 0,
  dh: 1,
  dw: 2,
  groups: 2,
};
export const POOL: PoolShape = { n: 2, c: 3, h: 7, w: 6, kh: 3, kw: 2, sh: 2, sw: 2, ph: 1, pw: 1, ceil: true };
export const POOL_DILATED: PoolShape = { ...POOL, dh: 2, dw: 3 };
const cz = convSizes(CONV),
  pz = poolSizes(POOL),
  pdz = poolSizes(POOL_DILATED);
/** conv2dTransposeForward's sizes for the transposed conv of CONV. */
export const CONV_TRANSPOSE_ARGS = [
  CONV.n,
  CONV.oc,
  cz.oh,
  cz.ow,
  CONV.c,
  CONV.kh,
  CONV.kw,
  CONV.sh,
  CONV.sw,
  CONV.ph,
  CONV.pw,
  CONV.h,
  CONV.w,
  CONV.dh!,
  CONV.dw!,
  CONV.groups!,
];
// Upsample [UP_P, UP_H, UP_W] -> [UP_P, UP_OH, UP_OW]: bilinear, the width from a scale factor of 2.
const [UP_P, UP_H, UP_W, UP_OH, UP_OW] = [6, 4, 5, 7, 10];
const UPSAMPLE_SIZES = [
  ...sizes('planes h w outH outW'),
  arg('size0')('bilinear'),
  arg('size0')('alignCorners'),
  num('scaleH'),
  num('scaleW'),
];
const UPSAMPLE_ARGS = [UP_P, UP_H, UP_W, UP_OH, UP_OW, 1, 0, 0, 2];
const [B, IN, OUT, K, N] = [3, 5, 4, 6, 10];

// Batch norm sizes: n * s > 1 values per channel, as training needs.
const [BN_N, BN_C, BN_S] = [3, 4, 5];
const BN_COUNT = BN_N * BN_C * BN_S;

// Window mean over [WM_P, WM_H, WM_W] -> [WM_P, WM_OH, WM_OW] (native/binding_pool.cc): overlapping windows, an empty last
// row window (whose divisors may be 0), negative and fractional divisors.
const [WM_P, WM_H, WM_W, WM_OH, WM_OW] = [6, 7, 6, 4, 3];
const WM_WINDOWS = (r: Rng) => [
  new Int32Array([0, 2, 3, 7]),
  new Int32Array([3, 5, 7, 7]),
  new Int32Array([0, 1, 4]),
  new Int32Array([2, 5, 6]),
  Float64Array.from({ length: WM_OH * WM_OW }, (_, i) => (i >= 3 * WM_OW ? 0 : r.pick([1, 2, 6, -4, 0.5, 2.5]))),
];
const WM_ARGS = [
  i32('rowStart'),
  i32('rowEnd'),
  i32('colStart'),
  i32('colEnd'),
  f64('divisor'),
  ...['planes', 'h', 'w', 'oh', 'ow'].map(size),
];
const WM_SIZES = [WM_P, WM_H, WM_W, WM_OH, WM_OW];

/** The leading arguments conv2dBackward and linearBackward share: optional gradient outputs, then their inputs. */
const BACKWARD_LEAD = (): Arg[] => [
  opt('dinput', true),
  opt('dweight', true),
  opt('dbias', true),
  f32('doutput'),
  f32('input'),
  f32('weight'),
];

/** conv2dBackward without its optional trailing overwriteDinput (a second spec adds it). */
const CONV2D_BACKWARD: Spec = {
  op: 'conv2dBackward',
  args: [...BACKWARD_LEAD(), ...CONV_SIZES],
  arity: [20, 21],
  valid: (r) => [
    r.f32(cz.input),
    r.f32(cz.weight),
    r.f32(CONV.oc),
    r.f32(cz.output),
    r.f32(cz.input),
    r.f32(cz.weight),
    ...convArgs(CONV),
  ],
};

const SLICE_DIMS = () => Float64Array.from([3, 5, 4, 0, 1, 0, 1, 2, 3, 3, 2, 2]);

export const SPECS: Spec[] = [
  {
    op: 'conv2dForward',
    args: [f32('out', true), f32('input'), f32('weight'), opt('bias'), ...CONV_SIZES],
    arity: [18, 19],
    valid: (r) => [new Float32Array(cz.output), r.f32(cz.input), r.f32(cz.weight), r.f32(CONV.oc), ...convArgs(CONV)],
  },
  {
    op: 'conv2dForward',
    label: 'conv2dForward with fuseRelu',
    args: [f32('out', true), f32('input'), f32('weight'), opt('bias'), ...CONV_SIZES, arg('size0')('fuseRelu')],
    arity: [18, 19],
    valid: (r) => [
      new Float32Array(cz.output),
      r.f32(cz.input),
      r.f32(cz.weight),
      r.f32(CONV.oc),
      ...convArgs(CONV),
      1,
    ],
  },
  CONV2D_BACKWARD,
  {
    ...CONV2D_BACKWARD,
    label: 'conv2dBackward with overwriteDinput',
    args: [...CONV2D_BACKWARD.args, arg('size0')('overwriteDinput')],
    valid: (r) => [...CONV2D_BACKWARD.valid(r), 1],
  },
  {
    // The transposed conv of CONV: input [n, CONV.oc, oh, ow] -> output [n, CONV.c, CONV.h, CONV.w], the same weight.
    op: 'conv2dTransposeForward',
    args: [
      f32('out', true),
      f32('input'),
      f32('weight'),
      opt('bias'),
      ...sizes(
        'n inChannels h w outChannels kernelH kernelW strideH strideW padH padW outH outW dilationH dilationW groups',
      ),
    ],
    valid: (r) => [
      new Float32Array(cz.input),
      r.f32(cz.output),
      r.f32(cz.weight),
      r.f32(CONV.c),
      ...CONV_TRANSPOSE_ARGS,
    ],
  },
  {
    op: 'upsample2dForward',
    args: [f32('out', true), f32('input'), ...UPSAMPLE_SIZES],
    valid: (r) => [new Float32Array(UP_P * UP_OH * UP_OW), r.f32(UP_P * UP_H * UP_W), ...UPSAMPLE_ARGS],
  },
  {
    op: 'upsample2dBackward',
    args: [f32('dinput', true), f32('doutput'), ...UPSAMPLE_SIZES],
    valid: (r) => [r.f32(UP_P * UP_H * UP_W), r.f32(UP_P * UP_OH * UP_OW), ...UPSAMPLE_ARGS],
  },
  {
    op: 'maxPool2dForward',
    args: [f32('out', true), i32('argmax', true), f32('input'), ...POOL_SIZES],
    arity: [14, 16],
    valid: (r) => [new Float32Array(pz.output), new Int32Array(pz.output), r.f32(pz.input), ...poolArgs(POOL)],
  },
  {
    op: 'maxPool2dForward',
    label: 'maxPool2dForward with dilation',
    args: [f32('out', true), i32('argmax', true), f32('input'), ...POOL_SIZES, ...POOL_DILATION],
    arity: [14, 16],
    valid: (r) => [
      new Float32Array(pdz.output),
      new Int32Array(pdz.output),
      r.f32(pdz.input),
      ...poolArgs(POOL_DILATED),
    ],
  },
  {
    op: 'maxPool2dBackward',
    args: [f32('dinput', true), f32('doutput'), i32('argmax'), ...POOL_SIZES],
    arity: [14, 18],
    valid: (r) => [
      r.f32(pz.input),
      r.f32(pz.output),
      maxPool2dForward(r.f32(pz.input), POOL).argmax,
      ...poolArgs(POOL),
    ],
  },
  {
    op: 'maxPool2dBackward',
    label: 'maxPool2dBackward with dilation',
    args: [f32('dinput', true), f32('doutput'), i32('argmax'), ...POOL_SIZES, ...POOL_DILATION],
    arity: [14, 18],
    valid: (r) => [
      r.f32(pdz.input),
      r.f32(pdz.output),
      maxPool2dForward(r.f32(pdz.input), POOL_DILATED).argmax,
      ...poolArgs(POOL_DILATED),
    ],
  },
  {
    op: 'maxPool2dBackward',
    label: 'maxPool2dBackward with overwriteDinput and reluOutput',
    args: [
      f32('dinput', true),
      f32('doutput'),
      i32('argmax'),
      ...POOL_SIZES,
      ...POOL_DILATION,
      arg('size0')('overwriteDinput'),
      opt('reluOutput'),
    ],
    arity: [14, 18],
    valid: (r) => [
      r.f32(pdz.input),
      r.f32(pdz.output),
      maxPool2dForward(r.f32(pdz.input), POOL_DILATED).argmax,
      ...poolArgs(POOL_DILATED),
      1,
      r.f32(pdz.input),
    ],
  },
  {
    op: 'linearForward',
    args: [
      f32('out', true),
      f32('input'),
      f32('weight'),
      opt('bias'),
      size('batch'),
      size('inFeatures'),
      size('outFeatures'),
    ],
    valid: (r) => [new Float32Array(B * OUT), r.f32(B * IN), r.f32(OUT * IN), r.f32(OUT), B, IN, OUT],
  },
  {
    op: 'linearBackward',
    args: [...BACKWARD_LEAD(), size('batch'), size('inFeatures'), size('outFeatures')],
    valid: (r) => [
      r.f32(B * IN),
      r.f32(OUT * IN),
      r.f32(OUT),
      r.f32(B * OUT),
      r.f32(B * IN),
      r.f32(OUT * IN),
      B,
      IN,
      OUT,
    ],
  },
  {
    op: 'add',
    args: [f32('out', true), f32('a'), f32('b')],
    valid: (r) => [new Float32Array(N), r.f32(N), r.f32(N)],
    driver: 'a',
  },
  {
    op: 'addRelu',
    args: [f32('out', true), f32('a'), f32('b')],
    valid: (r) => [new Float32Array(N), r.f32(N), r.f32(N)],
    driver: 'a',
  },
  {
    op: 'reluForward',
    args: [f32('out', true), f32('input')],
    valid: (r) => [new Float32Array(N), r.f32(N)],
    driver: 'input',
  },
  {
    op: 'reluBackward',
    args: [f32('dinput', true), f32('doutput'), f32('output')],
    valid: (r) => [r.f32(N), r.f32(N), r.f32(N)],
    driver: 'doutput',
  },
  {
    op: 'reluMask',
    args: [f32('grad', true), f32('output')],
    valid: (r) => [r.f32(N), r.f32(N)],
    driver: 'grad',
  },
  {
    op: 'crossEntropyForward',
    args: [f32('probs', true), f32('logits'), i32('targets'), size('batch'), size('classes')],
    valid: (r) => [new Float32Array(B * K), r.f32(B * K), r.i32(B, 0, K - 1), B, K],
  },
  {
    op: 'crossEntropyBackward',
    args: [f32('dlogits', true), f32('probs'), i32('targets'), num('scale'), size('batch'), size('classes')],
    valid: (r) => [r.f32(B * K), r.f32(B * K, 0, 1), r.i32(B, 0, K - 1), 1, B, K],
  },
  {
    op: 'adamStep',
    args: [
      f32('param', true),
      f32('expAvg', true),
      f32('expAvgSq', true),
      f32('grad'),
      num('lr'),
      num('beta1'),
      num('beta2'),
      num('eps'),
      num('weightDecay'),
      size('step'),
    ],
    valid: (r) => [r.f32(N), r.f32(N), r.f32(N, 0, 1), r.f32(N), 1e-3, 0.9, 0.999, 1e-8, 0, 1],
    driver: 'param',
  },
  // Batch norm over [BN_N, BN_C, BN_S] (native/binding_norm.cc).
  {
    op: 'batchNormForwardTrain',
    arity: [13, 15], // + fuseRelu, residual (test/native/batch-norm.test.ts checks them)
    args: [
      f32('out', true),
      f32('saveMean', true),
      f32('saveInvstd', true),
      f32('runningMean', true),
      f32('runningVar', true),
      f32('input'),
      opt('weight'),
      opt('bias'),
      size('n'),
      size('c'),
      size('s'),
      num('eps'),
      num('momentum'),
    ],
    valid: (r) => [
      new Float32Array(BN_COUNT),
      new Float32Array(BN_C),
      new Float32Array(BN_C),
      r.f32(BN_C),
      r.f32(BN_C, 0.5, 1),
      r.f32(BN_COUNT),
      r.f32(BN_C),
      r.f32(BN_C),
      BN_N,
      BN_C,
      BN_S,
      1e-5,
      0.1,
    ],
  },
  {
    op: 'batchNormForwardEval',
    args: [
      f32('out', true),
      f32('input'),
      f32('runningMean'),
      f32('runningVar'),
      opt('weight'),
      opt('bias'),
      size('n'),
      size('c'),
      size('s'),
      num('eps'),
    ],
    valid: (r) => [
      new Float32Array(BN_COUNT),
      r.f32(BN_COUNT),
      r.f32(BN_C),
      r.f32(BN_C, 0.5, 1),
      r.f32(BN_C),
      r.f32(BN_C),
      BN_N,
      BN_C,
      BN_S,
      1e-5,
    ],
  },
  {
    op: 'batchNormBackwardTrain',
    arity: [11, 14], // + bias, overwriteDinput, fuseRelu (test/native/batch-norm.test.ts checks them)
    args: [
      opt('dinput', true),
      opt('dweight', true),
      opt('dbias', true),
      f32('doutput'),
      f32('input'),
      f32('saveMean'),
      f32('saveInvstd'),
      opt('weight'),
      size('n'),
      size('c'),
      size('s'),
    ],
    valid: (r) => [
      r.f32(BN_COUNT),
      r.f32(BN_C),
      r.f32(BN_C),
      r.f32(BN_COUNT),
      r.f32(BN_COUNT),
      r.f32(BN_C),
      r.f32(BN_C, 0.5, 2),
      r.f32(BN_C),
      BN_N,
      BN_C,
      BN_S,
    ],
  },
  // Window mean (native/binding_pool.cc).
  {
    op: 'windowMeanForward',
    args: [f32('out', true), f32('input'), ...WM_ARGS],
    valid: (r) => [new Float32Array(WM_P * WM_OH * WM_OW), r.f32(WM_P * WM_H * WM_W), ...WM_WINDOWS(r), ...WM_SIZES],
  },
  {
    op: 'windowMeanBackward',
    args: [f32('dinput', true), f32('doutput'), ...WM_ARGS],
    valid: (r) => [r.f32(WM_P * WM_H * WM_W), r.f32(WM_P * WM_OH * WM_OW), ...WM_WINDOWS(r), ...WM_SIZES],
  },
  // Strided slice (native/binding_slice.cc): 2 images of [3, 5, 4] -> [3, 2, 2] (x[:, :, 1::2, ::3]).
  {
    op: 'sliceForward',
    args: [f32('out', true), f32('input'), size('images'), size('rank'), f64('dims')],
    valid: (r) => [new Float32Array(2 * 12), r.f32(2 * 60), 2, 3, SLICE_DIMS()],
  },
  {
    op: 'sliceBackward',
    args: [f32('dinput', true), f32('doutput'), size('images'), size('rank'), f64('dims')],
    valid: (r) => [new Float32Array(2 * 60), r.f32(2 * 12), 2, 3, SLICE_DIMS()],
  },
];

export const labelOf = (s: Spec) => s.label ?? s.op;
export const arityOf = (s: Spec): [number, number] => s.arity ?? [s.args.length, s.args.length];
export const isBuffer = (a: Arg) => a.kind === 'f32' || a.kind === 'f32?' || a.kind === 'i32';

export function invoke(op: Op, args: readonly unknown[]): unknown {
  return (native[op] as unknown as (...a: unknown[]) => unknown)(...args);
}

export type Typed = Float32Array | Int32Array;

export function detach(a: Typed): void {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
}

/** A copy of `a` (same kind and contents) at element `offset` of `backing`. */
export function viewAt(backing: ArrayBufferLike, offset: number, a: Typed): Typed {
  const v =
    a instanceof Int32Array
      ? new Int32Array(backing, offset * 4, a.length)
      : new Float32Array(backing, offset * 4, a.length);
  v.set(a as never);
  return v;
}

export const SENTINEL = 0x7fbadbad; // a NaN bit pattern no kernel writes

/**
 * Moves every typed array of args into one backing buffer (an ArrayBuffer unless given another constructor), one element
 * after the start and `gap` elements apart, so no view is 16-byte aligned; the gaps hold SENTINEL.
 */
export function packViews(
  args: readonly unknown[],
  gap = 3,
  Backing: new (n: number) => ArrayBufferLike = ArrayBuffer,
) {
  const typed = args.filter((a): a is Typed => a instanceof Float32Array || a instanceof Int32Array);
  const total = typed.reduce((s, a) => s + a.length + gap, 1);
  const backing = new Backing(total * 4);
  new Int32Array(backing).fill(SENTINEL);
  let at = 1;
  const packed = args.map((a) => {
    if (!(a instanceof Float32Array || a instanceof Int32Array)) return a;
    const v = viewAt(backing, at, a);
    at += a.length + gap;
    return v;
  });
  const gaps = () => {
    const words = new Int32Array(backing),
      spans = packed.filter((a): a is Typed => ArrayBuffer.isView(a));
    return Array.from(words).filter(
      (_, i) => !spans.some((s) => i >= s.byteOffset / 4 && i < s.byteOffset / 4 + s.length),
    );
  };
  return { packed, gaps };
}

/** True when e is a `kind` error from any realm (the addon throws its main-realm errors into jest's sandbox realm). */
export function isError(e: unknown, kind: 'TypeError' | 'RangeError' | 'Error'): e is Error {
  if (typeof e !== 'object' || e === null) return false;
  const names: string[] = [];
  for (let p = Object.getPrototypeOf(e); p; p = Object.getPrototypeOf(p)) names.push(p.constructor?.name);
  return names.includes(kind) && names.includes('Error') && (e as Error).name === kind;
}

/** Asserts fn throws a `kind` whose message matches re; returns the message. */
export function expectError(fn: () => unknown, kind: 'TypeError' | 'RangeError', re: RegExp): string {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected a ${kind} matching ${re}, but the call returned`);
  if (!isError(error, kind) || !re.test(error.message)) {
    const got = isError(error, 'Error') ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`expected a ${kind} matching ${re}, got ${got}`);
  }
  return error.message;
}

// ---- non-finite data

/**
 * float32 bit patterns of non-finite values: quiet NaN, negative quiet NaN, a signalling NaN, a NaN with another payload,
 * +Infinity and -Infinity (NaN payloads and signs must not matter to any kernel).
 */
export const NONFINITE_BITS = [0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00101, 0x7f800000, 0xff800000];
export const NAN_BITS = NONFINITE_BITS.slice(0, 4);
/** How fillNonFinite fills a buffer: every element NaN (of any bit pattern), +Inf or -Inf; any non-finite value; or a quarter of them. */
export const FILL_MODES = ['NaN', '+Inf', '-Inf', 'mixed', 'sparse'] as const;
export type FillMode = (typeof FILL_MODES)[number];

/** Overwrites `a` in place as `mode` says; 'sparse' leaves values in [-1, 1] between the non-finite ones. */
export function fillNonFinite(a: Float32Array, mode: FillMode, rng: Rng): Float32Array {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) {
    if (mode === 'NaN') bits[i] = rng.pick(NAN_BITS);
    else if (mode === '+Inf') a[i] = Infinity;
    else if (mode === '-Inf') a[i] = -Infinity;
    else if (mode === 'mixed' || rng.next() < 0.25) bits[i] = rng.pick(NONFINITE_BITS);
    else a[i] = rng.uniform(-1, 1);
  }
  return a;
}

// ---- fuzzing

const ODD = [
  0,
  -0,
  -1,
  1,
  2,
  3,
  7,
  0.5,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 40,
  2 ** 40 + 1,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.EPSILON,
];
const OTHER = ['', '3', 'abc', null, undefined, true, false, 3n, {}, [], [1, 2], Symbol('s'), () => 1, new Number(2)];
const KINDS = [Float32Array, Float32Array, Int32Array, Int32Array, Float64Array, Uint8Array, Int16Array];
const typedOf = (args: unknown[]) =>
  // typed arguments that still have memory (not detached)
  args.filter((a): a is Typed => (a instanceof Float32Array || a instanceof Int32Array) && a.buffer.byteLength > 0);
/** A short description of a fuzzed value for failure messages. */
export function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Typed).length}) @${v.byteOffset}`;
  if (typeof v === 'symbol' || typeof v === 'bigint' || typeof v === 'function') return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** A replacement for argument i: mostly of the kind it wants (numbers for sizes, typed arrays for buffers), else anything. */
export function fuzzValue(rng: Rng, args: unknown[], i: number, arg?: Arg): unknown {
  const others = typedOf(args);
  const pick =
    !arg || rng.next() < 0.25 ? rng.int(0, 8) : isBuffer(arg) ? rng.pick([3, 4, 5, 7, 7]) : rng.pick([0, 1, 6, 6]);
  switch (pick) {
    case 0:
      return rng.pick(ODD);
    case 1:
      return rng.int(0, 70);
    case 2:
      return rng.pick(OTHER);
    case 3: {
      // a typed array of a random kind and length
      const Kind = rng.pick(KINDS),
        a = new Kind(rng.int(0, 120));
      for (let k = 0; k < a.length; k++)
        a[k] = Kind === Float32Array || Kind === Float64Array ? rng.uniform(-3, 3) : rng.int(-2, 60);
      if (a instanceof Float32Array && rng.next() < 0.5) fillNonFinite(a, rng.pick(FILL_MODES), rng); // NaN and infinities as data
      return a;
    }
    case 4: {
      // the memory of another argument, maybe shifted or shortened: aliasing
      if (!others.length) return null;
      const o = rng.pick(others),
        shift = rng.int(0, Math.min(2, o.length)),
        len = Math.max(0, o.length - shift - rng.int(0, 1));
      return new (rng.next() < 0.5 ? Float32Array : Int32Array)(o.buffer as ArrayBuffer, o.byteOffset + 4 * shift, len);
    }
    case 5: {
      // a detached copy of an argument
      if (!others.length) return null;
      const a = rng.pick(others).slice();
      detach(a);
      return a;
    }
    case 6: {
      // a nearby or doubled number
      const v = args[i];
      return typeof v === 'number' ? (rng.next() < 0.5 ? v + rng.int(-2, 2) : v * 2) : rng.int(1, 9);
    }
    case 7: {
      // the right kind with a nearby length, or the same length
      const v = args[i];
      if (!(v instanceof Float32Array || v instanceof Int32Array)) return new Float32Array(rng.int(0, 12));
      const a = new (v.constructor as typeof Float32Array)(Math.max(0, v.length + rng.int(-2, 2)));
      for (let k = 0; k < a.length; k++) a[k] = rng.int(-3, 60);
      if (a instanceof Float32Array && rng.next() < 0.5) fillNonFinite(a, rng.pick(FILL_MODES), rng);
      return a;
    }
    default:
      return undefined;
  }
}
