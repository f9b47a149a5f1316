// SPDX-License-Identifier: MIT
// The optimizer part of a training checkpoint: Adam/AdamW moments (and AMSGrad's running maximum) and step counts, or
// SGD's momentum buffers, with their hyperparameters; writing them, checking a file's record field by field, and restoring them. checkpoint.ts
// holds the rest of the checkpoint (weights, schedule, generators, position).
import { checkArray, checkBool, checkInt, checkNumber, checkOneOf, isOptionsObject } from '../check';
import { Adam, type AdamState } from '../optim/adam';
import { AdamW } from '../optim/adamw';
import { SGD, type SGDState } from '../optim/sgd';
import { Tensor } from '../tensor/tensor';

/** Tensor-name prefix of optimizer state: `optim.<i>.exp_avg`, `optim.<i>.momentum_buffer`, ... (i: parameter index). */
export const OPTIM_PREFIX = 'optim.';

/** The optimizers a checkpoint holds. */
export type CheckpointOptimizer = Adam | SGD;

/**
 * Adam or AdamW: moments `optim.<i>.exp_avg` and `optim.<i>.exp_avg_sq` for every parameter, and with amsgrad
 * `optim.<i>.max_exp_avg_sq` (PyTorch's name).
 */
export interface AdamMeta {
  type: 'Adam' | 'AdamW';
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** Absent in checkpoints written before amsgrad was saved: false. */
  amsgrad?: boolean;
  /** Absent in older checkpoints: false. */
  maximize?: boolean;
  /** Step count per parameter. */
  steps: number[];
}

/**
 * SGD: `optim.<i>.momentum_buffer` for parameter i when `buffers[i]`; a buffer is absent (PyTorch's None) until the
 * first step with momentum.
 */
export interface SGDMeta {
  type: 'SGD';
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** Absent in older checkpoints: false. */
  maximize?: boolean;
  buffers: boolean[];
}

export type OptimizerMeta = AdamMeta | SGDMeta;

const ADAM_TENSORS = ['exp_avg', 'exp_avg_sq'] as const;
const AMSGRAD_TENSOR = 'max_exp_avg_sq';
const SGD_TENSOR = 'momentum_buffer';

/** The record's type: the class a checkpoint names (a user's subclass is saved as the class it extends). */
function typeOf(optimizer: CheckpointOptimizer): OptimizerMeta['type'] {
  return optimizer instanceof SGD ? 'SGD' : optimizer instanceof AdamW ? 'AdamW' : 'Adam';
}

/**
 * The hyperparameters a resumed run must share with the saved one (lr is restored instead: a schedule moves it); flags
 * an older file lacks count as false.
 */
function hyperparameters(o: OptimizerMeta): Record<string, unknown> {
  const maximize = o.maximize ?? false;
  return o.type === 'SGD'
    ? { momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay, maximize }
    : { betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, amsgrad: o.amsgrad ?? false, maximize };
}

function tensorName(i: number, which: string): string {
  return `${OPTIM_PREFIX}${i}.${which}`;
}

/** Adds the optimizer's tensors to `dict` and returns its record. Buffers are shared, not copied (saved at once). */
export function optimizerState(optimizer: CheckpointOptimizer, dict: Record<string, Tensor>): OptimizerMeta {
  const lr = optimizer.lr;
  if (optimizer instanceof SGD) {
    const buffers = optimizer.params.map((p, i) => {
      const buf = optimizer.stateOf(i).momentumBuffer;
      if (buf !== null) dict[tensorName(i, SGD_TENSOR)] = new Tensor(buf, p.data.shape);
      return buf !== null;
    });
    const { momentum, dampening, nesterov, weightDecay, maximize } = optimizer;
    return { type: 'SGD', lr, momentum, dampening, nesterov, weightDecay, maximize, buffers };
  }
  const steps = optimizer.params.map((p, i) => {
    const s = optimizer.stateOf(i);
    dict[tensorName(i, 'exp_avg')] = new Tensor(s.expAvg, p.data.shape);
    dict[tensorName(i, 'exp_avg_sq')] = new Tensor(s.expAvgSq, p.data.shape);
    if (s.maxExpAvgSq) dict[tensorName(i, AMSGRAD_TENSOR)] = new Tensor(s.maxExpAvgSq, p.data.shape);
    return s.step;
  });
  const { betas, eps, weightDecay, amsgrad, maximize } = optimizer;
  const type = typeOf(optimizer) as AdamMeta['type'];
  return { type, lr, betas: [betas[0], betas[1]], eps, weightDecay, amsgrad, maximize, steps };
}

/**
 * Checks a record read from a file field by field, each as the optimizer's constructor checks it (lib/check.ts);
 * `bad` throws the file's FileFormatError with the check's message.
 */
export function checkOptimizerMeta(o: unknown, bad: (detail: string) => never): asserts o is OptimizerMeta {
  const shape =
    'optimizer must be { type: "Adam" | "AdamW", lr, betas, eps, weightDecay, amsgrad?, maximize?, steps } or { type: "SGD", lr, momentum, dampening, nesterov, weightDecay, maximize?, buffers }';
  if (!isOptionsObject(o)) bad(shape);
  const r = o as Record<string, unknown>;
  const fields = (check: () => void): void => {
    try {
      check();
    } catch (err) {
      bad((err as Error).message);
    }
  };
  fields(() => checkOneOf('optimizer.type', r.type, ['Adam', 'AdamW', 'SGD']));
  const sgd = r.type === 'SGD';
  const keys = sgd
    ? ['type', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize', 'buffers']
    : ['type', 'lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'steps'];
  const extra = Object.keys(r).filter((k) => !keys.includes(k));
  if (extra.length) bad(`optimizer has unexpected fields ${extra.join(', ')}; ${shape}`);
  fields(() => {
    const min0 = { min: 0 };
    checkNumber('optimizer.lr', r.lr, min0);
    checkNumber('optimizer.weightDecay', r.weightDecay, min0);
    if (r.maximize !== undefined) checkBool('optimizer.maximize', r.maximize);
    if (r.amsgrad !== undefined) checkBool('optimizer.amsgrad', r.amsgrad);
    if (sgd) {
      checkNumber('optimizer.momentum', r.momentum, min0);
      checkNumber('optimizer.dampening', r.dampening); // any value, as in PyTorch
      checkBool('optimizer.nesterov', r.nesterov);
      checkArray('optimizer.buffers', r.buffers).forEach((b, i) => checkBool(`optimizer.buffers[${i}]`, b));
    } else {
      const betas = checkArray('optimizer.betas', r.betas, 2);
      betas.forEach((b, i) => checkNumber(`optimizer.betas[${i}]`, b, { min: 0, maxExclusive: 1 }));
      checkNumber('optimizer.eps', r.eps, min0);
      checkArray('optimizer.steps', r.steps).forEach((s, i) => checkInt(`optimizer.steps[${i}]`, s, 0));
    }
  });
}

/**
 * Checks that a file's optimizer record and tensors fit `optimizer` (type, hyperparameters, parameter count, every
 * tensor present with the parameter's size, no other `optim.*` tensor) and returns the function that puts them in.
 * Nothing changes until it is called. `bad` throws the file's FileFormatError.
 */
export function prepareOptimizerRestore(
  o: OptimizerMeta,
  tensors: Record<string, Tensor>,
  optimizer: CheckpointOptimizer,
  bad: (detail: string) => never,
): () => void {
  const type = typeOf(optimizer);
  if (o.type !== type) bad(`the optimizer is ${o.type}, this run uses ${type}`);
  const saved = hyperparameters(o);
  const mine = hyperparameters(optimizerState(optimizer, {}));
  for (const k of Object.keys(mine)) {
    if (JSON.stringify(saved[k]) === JSON.stringify(mine[k])) continue;
    // A file from before amsgrad was saved has no running maximum to resume from.
    const old =
      k === 'amsgrad' && o.type !== 'SGD' && o.amsgrad === undefined ? ' (a checkpoint without amsgrad state)' : '';
    bad(`the optimizer's ${k} is ${JSON.stringify(saved[k])}${old}, this run uses ${JSON.stringify(mine[k])}`);
  }
  const n = optimizer.params.length;
  const perParam = o.type === 'SGD' ? o.buffers : o.steps;
  if (perParam.length !== n) bad(`${perParam.length} optimizer parameters, this run has ${n}`);
  const expected = new Set<string>();
  const read = (i: number, which: string): Float32Array => {
    const name = tensorName(i, which);
    const t = tensors[name];
    if (t === undefined) bad(`no tensor '${name}'`);
    const size = optimizer.params[i].data.size;
    if (t.size !== size) bad(`'${name}' has ${t.size} values, parameter ${i} has ${size}`);
    expected.add(name);
    return t.data;
  };
  let apply: () => void;
  if (o.type === 'SGD') {
    const buffers = o.buffers.map((has, i) => (has ? read(i, SGD_TENSOR) : null));
    apply = () =>
      buffers.forEach((b, i) => {
        (optimizer.stateOf(i) as SGDState).momentumBuffer = b === null ? null : Float32Array.from(b);
      });
  } else {
    const names = o.amsgrad ? [...ADAM_TENSORS, AMSGRAD_TENSOR] : ADAM_TENSORS;
    const moments = o.steps.map((_, i) => names.map((which) => read(i, which)));
    apply = () =>
      moments.forEach(([m, v, vmax], i) => {
        const s = (optimizer as Adam).stateOf(i) as AdamState;
        s.expAvg.set(m);
        s.expAvgSq.set(v);
        if (vmax) s.maxExpAvgSq!.set(vmax);
        s.step = o.steps[i];
      });
  }
  const extra = Object.keys(tensors).filter((k) => k.startsWith(OPTIM_PREFIX) && !expected.has(k));
  if (extra.length) bad(`unexpected tensors ${extra.join(', ')}`);
  return () => {
    apply();
    optimizer.lr = o.lr;
  };
}

/** Checks that `optimizer` is one a checkpoint holds. */
export function isCheckpointOptimizer(optimizer: unknown): optimizer is CheckpointOptimizer {
  return optimizer instanceof Adam || optimizer instanceof SGD;
}
