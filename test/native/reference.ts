// SPDX-License-Identifier: MIT
// Naive float64 reference loops for every native kernel, a seeded RNG and expectClose; it never calls the addon.
type Vec = ArrayLike<number>;

/** mulberry32: tiny, seeded, and independent of lib/random.ts so a bug there cannot hide one here. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo = -1, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** An integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  f32(n: number, lo = -1, hi = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.uniform(lo, hi);
    return a;
  }
  i32(n: number, lo: number, hi: number): Int32Array {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.int(lo, hi);
    return a;
  }
}

/**
 * Throws unless |actual - expected| <= atol + rtol * |expected| (+ extra[i] when given) everywhere (NaN matches only
 * NaN, infinities must be equal). The message gives the number of bad elements and the max abs diff with its index.
 */
export function expectClose(
  actual: Vec,
  expected: Vec,
  atol: number,
  rtol: number,
  label = 'values',
  extra?: Vec,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != expected length ${expected.length}`);
  }
  let bad = 0,
    firstBad = -1,
    worst = -1,
    worstDiff = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i],
      e = expected[i];
    // NaN matches only NaN and an infinity only itself; finite values match within the tolerance.
    const same = a === e || (Number.isNaN(a) && Number.isNaN(e));
    const diff = same ? 0 : Number.isFinite(a) && Number.isFinite(e) ? Math.abs(a - e) : Infinity;
    const tol = atol + rtol * Math.abs(e) + (extra ? extra[i] : 0);
    if (!same && !(diff <= tol && diff < Infinity) && bad++ === 0) firstBad = i;
    if (diff > worstDiff) {
      worstDiff = diff;
      worst = i;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${label}: ${bad} of ${actual.length} elements not close (atol ${atol}, rtol ${rtol}); max abs diff ` +
        `${worstDiff} at index ${worst} (actual ${actual[worst]}, expected ${expected[worst]}); first bad ` +
        `index ${firstBad} (actual ${actual[firstBad]}, expected ${expected[firstBad]})`,
    );
  }
}

/** Element-wise a + b in float64 (expected value of a buffer that a backward kernel accumulates into). */
export function plus(a: Vec, b: Vec): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

/** Central finite differences of f at x (float64 throughout), to check the reference backward passes. */
export function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

export function dot(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// ---- conv2d: input [N, C, H, W], weight [OC, C/groups, KH, KW], bias [OC], output [N, OC, OH, OW].

export interface ConvShape {
  n: number;
  c: number;
  h: number;
  w: number;
  oc: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
}

export function convSizes(s: ConvShape) {
  const oh = Math.floor((s.h + 2 * s.ph - s.dh * (s.kh - 1) - 1) / s.sh) + 1;
  const ow = Math.floor((s.w + 2 * s.pw - s.dw * (s.kw - 1) - 1) / s.sw) + 1;
  return {
    oh,
    ow,
    input: s.n * s.c * s.h * s.w,
    weight: s.oc * (s.c / s.groups) * s.kh * s.kw,
    output: s.n * s.oc * oh * ow,
  };
}

type N7 = [number, number, number, number, number, number, number];
export type ConvArgs = [...N7, ...N7];
export type PoolArgs = [...N7, number, number, number, number, dilationH?: number, dilationW?: number];

/** The 14 trailing size arguments of conv2dForward / conv2dBackward, in binding order. */
export function convArgs(s: ConvShape): ConvArgs {
  return [s.n, s.c, s.h, s.w, s.oc, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh, s.dw, s.groups];
}

/** Calls visit(outIndex, inIndex, weightIndex, o) for every multiply of the convolution (padding skipped). */
function convTaps(s: ConvShape, visit: (oi: number, ii: number, wi: number, o: number) => void): void {
  const { oh, ow } = convSizes(s);
  const icg = s.c / s.groups,
    ocg = s.oc / s.groups;
  for (let n = 0; n < s.n; n++) {
    for (let o = 0; o < s.oc; o++) {
      const g = Math.floor(o / ocg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const oi = ((n * s.oc + o) * oh + oy) * ow + ox;
          visit(oi, -1, -1, o);
          for (let ci = 0; ci < icg; ci++) {
            for (let ky = 0; ky < s.kh; ky++) {
              const iy = oy * s.sh - s.ph + ky * s.dh;
              if (iy < 0 || iy >= s.h) continue;
              for (let kx = 0; kx < s.kw; kx++) {
                const ix = ox * s.sw - s.pw + kx * s.dw;
                if (ix < 0 || ix >= s.w) continue;
                const ii = ((n * s.c + g * icg + ci) * s.h + iy) * s.w + ix;
                visit(oi, ii, ((o * icg + ci) * s.kh + ky) * s.kw + kx, o);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dForward(x: Vec, w: Vec, b: Vec | null, s: ConvShape): Float64Array {
  const out = new Float64Array(convSizes(s).output);
  convTaps(s, (oi, ii, wi, o) => {
    if (ii < 0) out[oi] = b ? b[o] : 0;
    else out[oi] += x[ii] * w[wi];
  });
  return out;
}

/** Sum of |x w| (and |b|) per output of conv2dForward: the scale of any algorithm's rounding error in that output. */
export function conv2dForwardAbs(x: Vec, w: Vec, b: Vec | null, s: ConvShape): Float64Array {
  const out = new Float64Array(convSizes(s).output);
  convTaps(s, (oi, ii, wi, o) => {
    if (ii < 0) out[oi] = b ? Math.abs(b[o]) : 0;
    else out[oi] += Math.abs(x[ii] * w[wi]);
  });
  return out;
}

export function conv2dBackward(dout: Vec, x: Vec, w: Vec, s: ConvShape) {
  const z = convSizes(s);
  const dx = new Float64Array(z.input),
    dw = new Float64Array(z.weight),
    db = new Float64Array(s.oc);
  convTaps(s, (oi, ii, wi, o) => {
    if (ii < 0) {
      db[o] += dout[oi];
    } else {
      dx[ii] += dout[oi] * w[wi];
      dw[wi] += dout[oi] * x[ii];
    }
  });
  return { dx, dw, db };
}

// ---- max pooling: input [N, C, H, W], output and argmax [N, C, OH, OW]; -inf padding, dilation dh x dw (default 1).

export interface PoolShape {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  ceil: boolean;
  /** Passed to the binding only when set (its optional trailing arguments); 1 when absent. */
  dh?: number;
  dw?: number;
}

/** PyTorch's pooling_output_shape: floor (div_rtn) or ceil, and a last window must start inside input + left pad. */
export function poolOutSize(len: number, k: number, stride: number, pad: number, ceil: boolean, dilation = 1): number {
  let o = Math.floor((len + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (o - 1) * stride >= len + pad) o--;
  return o;
}

export function poolSizes(s: PoolShape) {
  const oh = poolOutSize(s.h, s.kh, s.sh, s.ph, s.ceil, s.dh),
    ow = poolOutSize(s.w, s.kw, s.sw, s.pw, s.ceil, s.dw);
  return { oh, ow, input: s.n * s.c * s.h * s.w, output: s.n * s.c * oh * ow };
}

/** The 11 trailing size arguments of maxPool2dForward / maxPool2dBackward, in binding order, then dilation when set. */
export function poolArgs(s: PoolShape): PoolArgs {
  const dilation = s.dh === undefined && s.dw === undefined ? [] : [s.dh ?? 1, s.dw ?? 1];
  return [s.n, s.c, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.ceil ? 1 : 0, ...dilation] as PoolArgs;
}

/**
 * Max of each window; argmax = y*W + x in its plane. PyTorch's rule (aten MaxPoolKernel.cpp): a value replaces
 * the best when strictly greater or NaN, so the first maximum wins a tie, NaN propagates and the last NaN wins.
 */
export function maxPool2dForward(x: Vec, s: PoolShape) {
  const { oh, ow, output } = poolSizes(s);
  const out = new Float64Array(output),
    argmax = new Int32Array(output);
  for (let p = 0; p < s.n * s.c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity,
          at = -1;
        for (let ky = 0; ky < s.kh; ky++) {
          const y = oy * s.sh - s.ph + ky * (s.dh ?? 1);
          if (y < 0 || y >= s.h) continue;
          for (let kx = 0; kx < s.kw; kx++) {
            const xx = ox * s.sw - s.pw + kx * (s.dw ?? 1);
            if (xx < 0 || xx >= s.w) continue;
            const v = x[p * s.h * s.w + y * s.w + xx];
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v;
              at = y * s.w + xx;
            }
          }
        }
        out[(p * oh + oy) * ow + ox] = best;
        argmax[(p * oh + oy) * ow + ox] = at;
      }
    }
  }
  return { out, argmax };
}

export function maxPool2dBackward(dout: Vec, argmax: Vec, s: PoolShape): Float64Array {
  const { oh, ow } = poolSizes(s);
  const dx = new Float64Array(s.n * s.c * s.h * s.w);
  for (let i = 0; i < dout.length; i++) dx[Math.floor(i / (oh * ow)) * s.h * s.w + argmax[i]] += dout[i];
  return dx;
}

// ---- linear: input [B, IN], weight [OUT, IN], bias [OUT], output [B, OUT].

export function linearForward(x: Vec, w: Vec, b: Vec | null, batch: number, nin: number, nout: number) {
  const out = new Float64Array(batch * nout);
  for (let i = 0; i < batch; i++) {
    for (let o = 0; o < nout; o++) {
      let acc = b ? b[o] : 0;
      for (let k = 0; k < nin; k++) acc += x[i * nin + k] * w[o * nin + k];
      out[i * nout + o] = acc;
    }
  }
  return out;
}

export function linearBackward(dout: Vec, x: Vec, w: Vec, batch: number, nin: number, nout: number) {
  const dx = new Float64Array(batch * nin),
    dw = new Float64Array(nout * nin),
    db = new Float64Array(nout);
  for (let i = 0; i < batch; i++) {
    for (let o = 0; o < nout; o++) {
      const g = dout[i * nout + o];
      db[o] += g;
      for (let k = 0; k < nin; k++) {
        dx[i * nin + k] += g * w[o * nin + k];
        dw[o * nin + k] += g * x[i * nin + k];
      }
    }
  }
  return { dx, dw, db };
}

// ---- relu (NaN stays NaN, as torch.relu) and its backward through the saved output (out > 0).

export function reluForward(x: Vec): Float64Array {
  return Float64Array.from(x, (v) => (Number.isNaN(v) ? NaN : v > 0 ? v : 0));
}

export function reluBackward(dout: Vec, out: Vec): Float64Array {
  return Float64Array.from(dout, (g, i) => (out[i] <= 0 ? 0 : g)); // NaN passes, as PyTorch's threshold_backward
}

// ---- softmax cross-entropy: logits [B, K], targets [B]; mean loss over the batch.

export function crossEntropy(logits: Vec, targets: Vec, batch: number, classes: number) {
  const probs = new Float64Array(batch * classes);
  let total = 0;
  for (let i = 0; i < batch; i++) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[i * classes + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[i * classes + k] - max);
    for (let k = 0; k < classes; k++) probs[i * classes + k] = Math.exp(logits[i * classes + k] - max) / sum;
    total += Math.log(sum) + max - logits[i * classes + targets[i]];
  }
  return { loss: total / batch, probs };
}

/** dlogits = scale * (probs - onehot(targets)) / B. */
export function crossEntropyGrad(probs: Vec, targets: Vec, scale: number, batch: number, classes: number) {
  return Float64Array.from(probs, (p, j) => {
    const i = Math.floor(j / classes);
    return (scale * (p - (j - i * classes === targets[i] ? 1 : 0))) / batch;
  });
}

// ---- Adam, as torch.optim.Adam (amsgrad=False, maximize=False) for step t >= 1.

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}

/** Updates param, m and v in place (float64 if given Float64Arrays). */
export function adamStep(param: Float64Array, m: Float64Array, v: Float64Array, grad: Vec, h: AdamHyper): void {
  const bc1 = 1 - h.beta1 ** h.step,
    bc2 = 1 - h.beta2 ** h.step;
  for (let i = 0; i < param.length; i++) {
    const g = h.weightDecay === 0 ? grad[i] : grad[i] + h.weightDecay * param[i]; // no 0 * Inf, as PyTorch
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    const denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + h.eps;
    param[i] -= (h.lr / bc1) * (m[i] / denom);
  }
}

// ---- window mean (AvgPool2d, AdaptiveAvgPool2d): input [P, H, W], output [P, OH, OW], windows per axis, float32 buffers.
// These are the TypeScript loops lib/modules/avg-pool2d.ts ran before the native kernels, kept as the bit-exact reference.

export interface MeanWindows {
  rowStart: Int32Array;
  rowEnd: Int32Array;
  colStart: Int32Array;
  colEnd: Int32Array;
  /** [OH * OW]: each output's divisor. */
  divisor: Float64Array;
}

/** out[p, y, x] = float64 sum over the window / divisor, rounded to float32 by the store; an empty window gives 0. */
export function windowMeanForward(
  out: Float32Array,
  input: Vec,
  planes: number,
  h: number,
  w: number,
  m: MeanWindows,
): void {
  const [oh, ow] = [m.rowStart.length, m.colStart.length];
  for (let p = 0; p < planes; p++) {
    const src = p * h * w,
      dst = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let i = m.rowStart[y]; i < m.rowEnd[y]; i++) {
          for (let j = m.colStart[x]; j < m.colEnd[x]; j++) sum += input[src + i * w + j];
        }
        const empty = m.rowStart[y] >= m.rowEnd[y] || m.colStart[x] >= m.colEnd[x];
        out[dst + y * ow + x] = empty ? 0 : sum / m.divisor[y * ow + x];
      }
    }
  }
}

/** dinput += Math.fround(dout / divisor) at every pixel of each window, windows in output order (float32 adds). */
export function windowMeanBackward(
  dinput: Float32Array,
  dout: Vec,
  planes: number,
  h: number,
  w: number,
  m: MeanWindows,
): void {
  const [oh, ow] = [m.rowStart.length, m.colStart.length];
  for (let p = 0; p < planes; p++) {
    const dst = p * h * w,
      src = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const g = Math.fround(dout[src + y * ow + x] / m.divisor[y * ow + x]);
        for (let i = m.rowStart[y]; i < m.rowEnd[y]; i++) {
          for (let j = m.colStart[x]; j < m.colEnd[x]; j++) dinput[dst + i * w + j] += g;
        }
      }
    }
  }
}
