// SPDX-License-Identifier: MIT
// Loads the addon once (node-gyp-build: a local build, else the shipped prebuild) and gives every export a type.
// Argument order mirrors the native/binding_*.cc files.
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from './backend/select';

type F32 = Float32Array;
type OptF32 = Float32Array | null;
/** An opaque handle to a native weight snapshot (createProgramSnapshot). */
export type ProgramSnapshot = { readonly __brand: 'ProgramSnapshot' };

export interface KernelInfo {
  /** Which backend runs: the "native" addon or the "wasm" (WebAssembly) build (lib/backend/select.ts). */
  backend: 'native' | 'wasm';
  /** With backend "wasm": the one-thread build ("single") or the threaded one ("threads"; docs/wasm.md). */
  wasmBuild?: 'single' | 'threads';
  /** The instruction set in use: "ref", "avx2", "avx512" or "neon". */
  isa: string;
  /** Per op, the kernels it runs: the ISA in use, "ref", or "baseline" (built with default flags). */
  kernels: Record<string, string>;
  /** ISAs this build and CPU can run ("ref" first, widest last). */
  supportedIsas: string[];
  openmp: boolean;
  /** Threads the parallel ops use now (with threadsAuto, what the contention trials chose last). */
  threads: number;
  /** True unless setNumThreads(n) or SIMDNET_NUM_THREADS fixed the count: then it is one thread per physical core,
   * or one thread while other processes keep CPUs busy and short trials find one thread faster (docs/threads.md). */
  threadsAuto: boolean;
  defaultThreads: number;
}

/** The raw binding. Each function validates its arguments and throws TypeError/RangeError. */
export interface NativeBinding {
  conv2dForward(
    out: F32,
    input: F32,
    weight: F32,
    bias: OptF32,
    n: number,
    c: number,
    h: number,
    w: number,
    outChannels: number,
    kernelH: number,
    kernelW: number,
    strideH: number,
    strideW: number,
    padH: number,
    padW: number,
    dilationH: number,
    dilationW: number,
    groups: number,
    fuseRelu?: number,
  ): void;
  conv2dBackward(
    dinput: OptF32,
    dweight: OptF32,
    dbias: OptF32,
    doutput: F32,
    input: F32,
    weight: F32,
    n: number,
    c: number,
    h: number,
    w: number,
    outChannels: number,
    kernelH: number,
    kernelW: number,
    strideH: number,
    strideW: number,
    padH: number,
    padW: number,
    dilationH: number,
    dilationW: number,
    groups: number,
    /** 1: dinput = the input gradient (need not be zeroed); 0 (default): dinput += it. */
    overwriteDinput?: number,
  ): void;
  /** ConvTranspose2d forward (native/binding_conv_transpose.cc): out [n, outC, outH, outW] from input [n, inC, h, w]. */
  conv2dTransposeForward(
    out: F32,
    input: F32,
    weight: F32,
    bias: OptF32,
    n: number,
    inChannels: number,
    h: number,
    w: number,
    outChannels: number,
    kernelH: number,
    kernelW: number,
    strideH: number,
    strideW: number,
    padH: number,
    padW: number,
    outH: number,
    outW: number,
    dilationH: number,
    dilationW: number,
    groups: number,
  ): void;
  /** Upsample (native/binding_upsample.cc): out [planes, outH, outW] from input [planes, h, w]; scale 0: from the sizes. */
  upsample2dForward(
    out: F32,
    input: F32,
    planes: number,
    h: number,
    w: number,
    outH: number,
    outW: number,
    bilinear: number,
    alignCorners: number,
    scaleH: number,
    scaleW: number,
  ): void;
  upsample2dBackward(
    dinput: F32,
    doutput: F32,
    planes: number,
    h: number,
    w: number,
    outH: number,
    outW: number,
    bilinear: number,
    alignCorners: number,
    scaleH: number,
    scaleW: number,
  ): void;
  maxPool2dForward(
    out: F32,
    argmax: Int32Array,
    input: F32,
    n: number,
    c: number,
    h: number,
    w: number,
    kernelH: number,
    kernelW: number,
    strideH: number,
    strideW: number,
    padH: number,
    padW: number,
    ceilMode: number,
    dilationH?: number,
    dilationW?: number,
  ): void;
  maxPool2dBackward(
    dinput: F32,
    doutput: F32,
    argmax: Int32Array,
    n: number,
    c: number,
    h: number,
    w: number,
    kernelH: number,
    kernelW: number,
    strideH: number,
    strideW: number,
    padH: number,
    padW: number,
    ceilMode: number,
    dilationH?: number,
    dilationW?: number,
    /** 1: dinput = the input gradient (need not be zeroed); 0 (default): dinput += it. */
    overwriteDinput?: number,
    /** The input when it is a ReLU's output: the gradient passes only where it is > 0 or NaN (ReLU's backward too). */
    reluOutput?: OptF32,
  ): void;
  linearForward(
    out: F32,
    input: F32,
    weight: F32,
    bias: OptF32,
    batch: number,
    inFeatures: number,
    outFeatures: number,
  ): void;
  linearBackward(
    dinput: OptF32,
    dweight: OptF32,
    dbias: OptF32,
    doutput: F32,
    input: F32,
    weight: F32,
    batch: number,
    inFeatures: number,
    outFeatures: number,
  ): void;
  /** out = a + b element by element (equal lengths, not empty); out may be a itself. */
  add(out: F32, a: F32, b: F32): void;
  /** out = max(a + b, 0), the bits of add then reluForward (the residual add and its ReLU); out may be a itself. */
  addRelu(out: F32, a: F32, b: F32): void;
  reluForward(out: F32, input: F32): void;
  reluBackward(dinput: F32, doutput: F32, output: F32): void;
  /** grad = output > 0 ? grad : 0, in place. */
  reluMask(grad: F32, output: F32): void;
  crossEntropyForward(probs: F32, logits: F32, targets: Int32Array, batch: number, classes: number): number;
  crossEntropyBackward(
    dlogits: F32,
    probs: F32,
    targets: Int32Array,
    scale: number,
    batch: number,
    classes: number,
  ): void;
  adamStep(
    param: F32,
    expAvg: F32,
    expAvgSq: F32,
    grad: F32,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
  /** Runs a compiled inference program (lib/modules/program.ts) on n images. */
  runProgram(code: Int32Array, params: Float32Array[], input: F32, output: F32, n: number): void;
  /** Copies a program's params (and the sources they derive from) into one immutable weight version. */
  createProgramSnapshot(params: Float32Array[], sources: Float32Array[]): ProgramSnapshot;
  /** True when `sources` hold exactly the values the snapshot copied. */
  programSnapshotMatches(snapshot: ProgramSnapshot, sources: Float32Array[]): boolean;
  /** Drops the handle's share of the snapshot's memory (runs in flight keep theirs). */
  releaseProgramSnapshot(snapshot: ProgramSnapshot): void;
  /**
   * runProgram with a snapshot's weights (conv weights packed once per snapshot), on this thread; true. With `sources`,
   * the run's threads first check them as programSnapshotMatches does, and when they differ nothing runs: false.
   */
  runProgramSnapshot(
    code: Int32Array,
    snapshot: ProgramSnapshot,
    input: F32,
    output: F32,
    n: number,
    sources?: Float32Array[],
  ): boolean;
  /**
   * Inflated PNG rows `raw` [height, 1 + width * bpp] (8-bit, bpp 1 to 4; `color` 1 for RGB/RGBA, 0 for gray)
   * unfiltered in place, each sample of channel c mapped to table[256 * c + v] into `out` [3, height, width]; false at
   * an unknown row filter.
   */
  pngRowsToPlanes(
    out: F32,
    raw: Uint8Array,
    table: F32,
    width: number,
    height: number,
    bpp: number,
    color: number,
  ): boolean;
  /** runProgram on the libuv thread pool with a snapshot's weights and a copy of the input. */
  runProgramAsync(code: Int32Array, snapshot: ProgramSnapshot, input: F32, n: number): Promise<Float32Array>;
  /**
   * runProgramAsync that reads the input in place (no copy; the wasm build copies): the caller leaves `input` unchanged
   * until the promise settles.
   */
  runProgramAsyncInPlace(code: Int32Array, snapshot: ProgramSnapshot, input: F32, n: number): Promise<Float32Array>;
  /** Batch-norm training forward over [n, c, s]; updates runningMean/runningVar (both or neither) in place. */
  batchNormForwardTrain(
    out: F32,
    saveMean: F32,
    saveInvstd: F32,
    runningMean: OptF32,
    runningVar: OptF32,
    input: F32,
    weight: OptF32,
    bias: OptF32,
    n: number,
    c: number,
    s: number,
    eps: number,
    momentum: number,
    /** 1: write max(out, 0) (BatchNorm + ReLU in one pass). */
    fuseRelu?: number,
    /**
     * [n, c, s]: added to the normalised values before the ReLU (a residual block's add, in the same pass; its
     * backward is then the unfused ReLU's, add's and batchNormBackwardTrain's).
     */
    residual?: OptF32,
  ): void;
  batchNormForwardEval(
    out: F32,
    input: F32,
    runningMean: F32,
    runningVar: F32,
    weight: OptF32,
    bias: OptF32,
    n: number,
    c: number,
    s: number,
    eps: number,
  ): void;
  batchNormBackwardTrain(
    dinput: OptF32,
    dweight: OptF32,
    dbias: OptF32,
    doutput: F32,
    input: F32,
    saveMean: F32,
    saveInvstd: F32,
    weight: OptF32,
    n: number,
    c: number,
    s: number,
    /** The forward's bias: with fuseRelu, the ReLU's mask is recomputed from it (and input, the statistics, weight). */
    bias?: OptF32,
    /** 1: dinput = ... instead of +=. */
    overwriteDinput?: number,
    /** 1: the forward ran with fuseRelu (no residual); doutput is then the ReLU's output gradient, masked here. */
    fuseRelu?: number,
  ): void;
  batchNormBackwardEval(
    dinput: OptF32,
    dweight: OptF32,
    dbias: OptF32,
    doutput: F32,
    input: F32,
    runningMean: F32,
    runningVar: F32,
    weight: OptF32,
    n: number,
    c: number,
    s: number,
    eps: number,
  ): void;
  /**
   * out[p, y, x] = (float64 sum of input[p, rowStart[y]..rowEnd[y]-1, colStart[x]..colEnd[x]-1]) / divisor[y * ow + x],
   * over `planes` planes of h x w; an empty window gives 0. Windows have oh / ow entries, indices in [0, h] / [0, w].
   */
  windowMeanForward(
    out: F32,
    input: F32,
    rowStart: Int32Array,
    rowEnd: Int32Array,
    colStart: Int32Array,
    colEnd: Int32Array,
    divisor: Float64Array,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
  ): void;
  /** The backward of windowMeanForward: dinput += float32(doutput / divisor) over each window. Accumulates. */
  windowMeanBackward(
    dinput: F32,
    doutput: F32,
    rowStart: Int32Array,
    rowEnd: Int32Array,
    colStart: Int32Array,
    colEnd: Int32Array,
    divisor: Float64Array,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
  ): void;
  /**
   * A strided slice of each of `images` images: dims (4 * rank values) are one image's [in, start, step, out] per dim
   * (rank <= 6), each read inside the image. out [images, out...] from input [images, in...].
   */
  sliceForward(out: F32, input: F32, images: number, rank: number, dims: Float64Array): void;
  /** The backward of sliceForward: dinput = doutput at the sliced positions, 0 elsewhere (overwrites). */
  sliceBackward(dinput: F32, doutput: F32, images: number, rank: number, dims: Float64Array): void;
  kernelInfo(): KernelInfo;
  /** Switches the kernels to an ISA ("auto" = widest supported); returns the one in use. */
  setIsa(name: string): string;
  /** Fixes the thread count (1..1024), or "auto" (the default): every core, one thread when trials under contention
   * find it faster. */
  setNumThreads(n: number | 'auto'): void;
  /** One training step ended (Optimizer.zeroGrad calls it): with "auto", the trials under contention then compare
   * the thread counts in steps per second (docs/threads.md). */
  markStep(): void;
  /** Growths of the native scratch buffers so far (a warm training loop adds none). */
  scratchStats(): { allocations: number; bytes: number };
  /**
   * Asks for transparent huge pages under the buffer's whole 2 MiB stretches (Linux; elsewhere a no-op), before its
   * first write: true when advised. Absent from older builds (the wasm one).
   */
  adviseHugePages?(buffer: Float32Array): boolean;
}

const packageRoot = path.resolve(__dirname, '..');

// node-gyp-build finds the addon for this platform: build/Release or build/Debug (compiled here),
// else prebuilds/<platform>-<arch>/ (shipped in the package, N-API: one file for every Node).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

/** Addon files to try, in order, and why other places had none. SIMDNET_ADDON_PATH names the only one. */
function candidates(): { files: string[]; missing: string[] } {
  const fromEnv = process.env.SIMDNET_ADDON_PATH;
  if (fromEnv) {
    // A build under test (test/alt-build.sh, .ci/native-tests.sh): never fall back to another one.
    const file = path.resolve(fromEnv);
    return fs.existsSync(file)
      ? { files: [file], missing: [] }
      : { files: [], missing: [`SIMDNET_ADDON_PATH=${file}: not found`] };
  }
  try {
    return { files: [nodeGypBuild.path(packageRoot)], missing: [] };
  } catch (err) {
    return {
      files: [],
      missing: [
        String((err as Error).message)
          .trim()
          .split('\n')[0],
      ],
    };
  }
}

function load(): NativeBinding {
  const { files, missing } = candidates();
  const tried = [...missing];
  for (const file of files) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(file) as NativeBinding;
    } catch (err) {
      tried.push(`${file}: ${(err as Error).message}`);
    }
  }
  const noOpenMp = tried.some((t) => t.includes('libgomp'));
  throw new Error(
    [
      'simdnet: the native addon could not be loaded.',
      ...tried.map((t) => `  - ${t}`),
      ...(noOpenMp ? ['The OpenMP runtime is missing: install it (Debian/Ubuntu: apt-get install libgomp1).'] : []),
      'simdnet ships prebuilt addons for Linux x64 and arm64 (glibc); elsewhere it compiles one when it is',
      'installed (node-gyp: a C++17 compiler, python3, make). Build it with:',
      '  npm rebuild simdnet            (in a project that depends on simdnet)',
      '  npm run build:native           (in a clone of simdnet)',
      'npm 11 asks before running install scripts; to allow it: npm install-scripts approve simdnet',
    ].join('\n'),
  );
}

/** The addon (or the WebAssembly build: lib/backend/select.ts), loaded when simdnet is first imported. */
export const native: NativeBinding = selectBackend(load);
