// SPDX-License-Identifier: MIT
// LeNet training steps through a raw binding (conv, ReLU, max pool, linear, cross-entropy, their backwards, Adam),
// so two backends can be run side by side in one process and compared buffer by buffer.
import type { NativeBinding } from '../../lib/native';
import { Rng } from '../native/reference';

const BATCH = 6;
// [in channels, out channels, input size] of the two 5x5 convolutions, then the linear layers' [in, out].
const CONVS = [
  [3, 6, 32],
  [6, 16, 14],
] as const;
const LINEARS = [
  [400, 120],
  [120, 84],
  [84, 10],
] as const;

interface Param {
  data: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

const param = (n: number, rng: Rng, scale: number): Param => ({
  data: Float32Array.from({ length: n }, () => rng.uniform(-scale, scale)),
  grad: new Float32Array(n),
  m: new Float32Array(n),
  v: new Float32Array(n),
});

export interface StepsResult {
  /** Every buffer computed, by name, in the order computed (activations, gradients, parameters after each step). */
  buffers: Map<string, Float32Array>;
  losses: number[];
}

/** Runs `steps` training steps from a seeded start; identical inputs for every backend. */
export function lenetSteps(b: NativeBinding, steps: number): StepsResult {
  const rng = new Rng(7);
  const params: Param[] = [];
  for (const [ci, co] of CONVS) params.push(param(co * ci * 25, rng, 0.2), param(co, rng, 0.2));
  for (const [i, o] of LINEARS) params.push(param(o * i, rng, 0.15), param(o, rng, 0.15));
  const input = Float32Array.from({ length: BATCH * 3 * 32 * 32 }, () => rng.uniform(-1, 1));
  const targets = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
  const buffers = new Map<string, Float32Array>();
  const losses: number[] = [];
  const keep = (name: string, a: Float32Array) => buffers.set(name, a.slice());

  for (let step = 0; step < steps; step++) {
    // Forward: conv -> relu -> pool, twice; then linear (+ relu) three times.
    const acts: Float32Array[] = [input];
    const argmaxes: Int32Array[] = [];
    let x = input;
    CONVS.forEach(([ci, co, size], l) => {
      const o = size - 4;
      const out = new Float32Array(BATCH * co * o * o);
      b.conv2dForward(
        out,
        x,
        params[2 * l].data,
        params[2 * l + 1].data,
        BATCH,
        ci,
        size,
        size,
        co,
        5,
        5,
        1,
        1,
        0,
        0,
        1,
        1,
        1,
      );
      b.reluForward(out, out);
      const pooled = new Float32Array(out.length / 4);
      const argmax = new Int32Array(pooled.length);
      b.maxPool2dForward(pooled, argmax, out, BATCH, co, o, o, 2, 2, 2, 2, 0, 0, 0);
      acts.push(out, pooled);
      argmaxes.push(argmax);
      x = pooled;
    });
    LINEARS.forEach(([i, o], l) => {
      const out = new Float32Array(BATCH * o);
      b.linearForward(out, x, params[4 + 2 * l].data, params[5 + 2 * l].data, BATCH, i, o);
      if (l < LINEARS.length - 1) b.reluForward(out, out);
      acts.push(out);
      x = out;
    });
    const probs = new Float32Array(BATCH * 10);
    losses.push(b.crossEntropyForward(probs, x, targets, BATCH, 10));
    keep(`step${step}.logits`, x);

    // Backward, accumulating into zeroed gradients.
    for (const p of params) p.grad.fill(0);
    let g = new Float32Array(BATCH * 10);
    b.crossEntropyBackward(g, probs, targets, 1 / BATCH, BATCH, 10);
    for (let l = LINEARS.length - 1; l >= 0; l--) {
      const [i, o] = LINEARS[l];
      const out = acts[5 + l];
      if (l < LINEARS.length - 1) b.reluMask(g, out);
      const xin = acts[4 + l];
      const dx = new Float32Array(BATCH * i);
      b.linearBackward(dx, params[4 + 2 * l].grad, params[5 + 2 * l].grad, g, xin, params[4 + 2 * l].data, BATCH, i, o);
      void out;
      g = dx;
    }
    for (let l = CONVS.length - 1; l >= 0; l--) {
      const [ci, co, size] = CONVS[l];
      const o = size - 4;
      const relu = acts[1 + 2 * l];
      const dpre = new Float32Array(relu.length);
      b.maxPool2dBackward(dpre, g, argmaxes[l], BATCH, co, o, o, 2, 2, 2, 2, 0, 0, 0);
      b.reluMask(dpre, relu);
      const dx = new Float32Array(BATCH * ci * size * size);
      const xin = acts[2 * l];
      b.conv2dBackward(
        dx,
        params[2 * l].grad,
        params[2 * l + 1].grad,
        dpre,
        xin,
        params[2 * l].data,
        BATCH,
        ci,
        size,
        size,
        co,
        5,
        5,
        1,
        1,
        0,
        0,
        1,
        1,
        1,
      );
      g = dx;
    }
    params.forEach((p, i) => {
      keep(`step${step}.grad${i}`, p.grad);
      b.adamStep(p.data, p.m, p.v, p.grad, 1e-3, 0.9, 0.999, 1e-8, 0, step + 1);
      keep(`step${step}.param${i}`, p.data);
    });
  }
  return { buffers, losses };
}
