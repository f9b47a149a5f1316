// SPDX-License-Identifier: MIT
// Per-kernel cases: simdnet's conv2d and linear forward at LeNet's shapes (batch 64), checked, then timed in GFLOP/s.
import { native, Tensor } from '../lib';
import { Generator } from '../lib/random';
import { TOL } from './data';
import { conv2dForward, linearForward } from '../test/native/reference';
import { maxAbsDiff, validConv } from './reference';
import { measure, TimingOptions } from './timing';

export interface KernelResult {
  kernel: string;
  shape: string;
  isa: string;
  msPerCall: number | null;
  gflops: number | null;
  /** Percent of the FMA peak measured with as many threads as simdnet uses. */
  pctPeak: number | null;
  maxDiff?: number;
  status: 'ok' | 'wrong result' | 'error';
  note?: string;
}

interface KernelCase {
  kernel: string;
  op: string;
  shape: string;
  macs: number;
  run: () => void;
  out: Float32Array;
  ref: () => Float64Array;
}

function randomArray(rng: Generator, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Valid 5x5 convolution of x [n, c, hw, hw] with LeNet's weight `name`. Buffers are preallocated: only the kernel is timed. */
function convCase(
  kernel: string,
  w: Record<string, Tensor>,
  name: string,
  n: number,
  c: number,
  hw: number,
  rng: Generator,
): KernelCase {
  const weight = w[`${name}.weight`].data;
  const bias = w[`${name}.bias`].data;
  const oc = w[`${name}.weight`].shape[0];
  const o = hw - 4;
  const x = randomArray(rng, n * c * hw * hw);
  const out = new Float32Array(n * oc * o * o);
  return {
    kernel,
    op: 'conv2d',
    out,
    shape: `[${n},${c},${hw},${hw}] * [${oc},${c},5,5] -> [${n},${oc},${o},${o}]`,
    macs: n * oc * o * o * c * 25,
    run: () => native.conv2dForward(out, x, weight, bias, n, c, hw, hw, oc, 5, 5, 1, 1, 0, 0, 1, 1, 1),
    ref: () => conv2dForward(x, weight, bias, validConv(n, c, hw, oc, 5)),
  };
}

function linearCase(kernel: string, w: Record<string, Tensor>, name: string, n: number, rng: Generator): KernelCase {
  const [outF, inF] = w[`${name}.weight`].shape;
  const weight = w[`${name}.weight`].data;
  const bias = w[`${name}.bias`].data;
  const x = randomArray(rng, n * inF);
  const out = new Float32Array(n * outF);
  return {
    kernel,
    op: 'linear',
    out,
    shape: `[${n},${inF}] x [${outF},${inF}]^T -> [${n},${outF}]`,
    macs: n * inF * outF,
    run: () => native.linearForward(out, x, weight, bias, n, inF, outF),
    ref: () => linearForward(x, weight, bias, n, inF, outF),
  };
}

/** conv1, conv2 and fc1 forward of LeNet at batch 64; `peak` is the FMA peak (GFLOP/s) to compare with, if known. */
export async function kernelCases(
  weights: Record<string, Tensor>,
  opt: TimingOptions,
  peak: number | null,
): Promise<KernelResult[]> {
  const rng = new Generator(7);
  const kernels = native.kernelInfo().kernels;
  const cases = [
    convCase('conv1 forward', weights, 'conv1', 64, 3, 32, rng),
    convCase('conv2 forward', weights, 'conv2', 64, 6, 14, rng),
    linearCase('fc1 forward', weights, 'fc1', 64, rng),
  ];
  const results: KernelResult[] = [];
  for (const k of cases) {
    const base = {
      kernel: k.kernel,
      shape: k.shape,
      isa: kernels[k.op] ?? '?',
      msPerCall: null,
      gflops: null,
      pctPeak: null,
    };
    try {
      k.run();
      const diff = maxAbsDiff(k.out, k.ref(), k.out.length);
      if (!(diff < TOL)) {
        results.push({
          ...base,
          maxDiff: diff,
          status: 'wrong result',
          note: `max |out - float64 reference| = ${diff.toExponential(1)}`,
        });
        continue;
      }
      const t = await measure(k.run, opt);
      const gflops = (2 * k.macs) / (t.msPerCall * 1e6);
      results.push({
        ...base,
        msPerCall: t.msPerCall,
        gflops,
        pctPeak: peak ? (100 * gflops) / peak : null,
        maxDiff: diff,
        status: 'ok',
      });
    } catch (err) {
      results.push({ ...base, status: 'error', note: (err as Error).message.split('\n')[0] });
    }
  }
  return results;
}
