// SPDX-License-Identifier: MIT
// The optimizer part of a training checkpoint: Adam/AdamW moments (and AMSGrad's running maximum) and step counts, or
// SGD's momentum buffers, with each parameter group's hyperparameters; writing them, checking a file's record field by field, and restoring them. checkpoint.ts
// holds the rest of the checkpoint (weights, schedule, generators, position).
import { checkArray, checkBool, checkInt, checkNumber, checkOneOf, describe, isOptionsObject } from '../check';
import { Adam, type AdamState } from '../optim/adam';
import { AdamW } from '../optim/adamw';
import { SGD, type SGDState } from '../optim/sgd';
import { Tensor } from '../tensor/tensor';

/** Tensor-name prefix of optimizer state: `optim.<i>.exp_avg`, `optim.<i>.momentum_buffer`, ... (i: parameter index). */
export const OPTIM_PREFIX = 'optim.';

/** The optimizers a checkpoint holds. */
export type CheckpointOptimizer = Adam | SGD;

/** Adam's and AdamW's per-group settings. */
export interface AdamGroupMeta {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** Absent in checkpoints written before amsgrad was saved: false. */
  amsgrad?: boolean;
  /** Absent in older checkpoints: false. */
  maximize?: boolean;
}

/** SGD's per-group settings. */
export interface SGDGroupMeta {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** Absent in older checkpoints: false. */
  maximize?: boolean;
}

/** With several parameter groups, each group's settings and how many parameters (of `params`, in order) it holds. */
export type GroupsMeta<G> = { groups: (G & { params: number })[] };

/**
 * Adam or AdamW: moments `optim.<i>.exp_avg` and `optim.<i>.exp_avg_sq` for every parameter, and with amsgrad
 * `optim.<i>.max_exp_avg_sq` (PyTorch's name); `steps` is the step count per parameter. One parameter group's settings
 * sit in the record itself (the layout of checkpoints from before groups), several in `groups`.
 */
export type AdamMeta = { type: 'Adam' | 'AdamW'; steps: number[] } & (AdamGroupMeta | GroupsMeta<AdamGroupMeta>);

/**
 * SGD: `optim.<i>.momentum_buffer` for parameter i when `buffers[i]`; a buffer is absent (PyTorch's None) until the
 * first step with momentum. Groups as in AdamMeta.
 */
export type SGDMeta = { type: 'SGD'; buffers: boolean[] } & (SGDGroupMeta | GroupsMeta<SGDGroupMeta>);

export type OptimizerMeta = AdamMeta | SGDMeta;
type GroupMeta = (AdamGroupMeta | SGDGroupMeta) & { params: number };

const ADAM_TENSORS = ['exp_avg', 'exp_avg_sq'] as const;
const AMSGRAD_TENSOR = 'max_exp_avg_sq';
const SGD_TENSOR = 'momentum_buffer';
const SGD_GROUP_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize'] as const;
const ADAM_GROUP_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;

/** The record's type: the class a checkpoint names (a user's subclass is saved as the class it extends). */
function typeOf(optimizer: CheckpointOptimizer): OptimizerMeta['type'] {
  return optimizer instanceof SGD ? 'SGD' : optimizer instanceof AdamW ? 'AdamW' : 'Adam';
}

/** Every group of a record (the single-group layout's one holds every parameter). */
function groupsOf(o: OptimizerMeta): GroupMeta[] {
  if ('groups' in o) return o.groups;
  const { type: _t, steps: _s, buffers: _b, ...group } = o as OptimizerMeta & { steps?: unknown; buffers?: unknown };
  return [{ ...(group as AdamGroupMeta | SGDGroupMeta), params: o.type === 'SGD' ? o.buffers.length : o.steps.length }];
}

/**
 * The hyperparameters a resumed run must share with the saved one (lr is restored instead: a schedule moves it); flags
 * an older file lacks (amsgrad, maximize) count as false.
 */
function hyperparameters(sgd: boolean, g: GroupMeta): Record<string, unknown> {
  const keys = (sgd ? SGD_GROUP_KEYS : ADAM_GROUP_KEYS).filter((k) => k !== 'lr');
  return Object.fromEntries(keys.map((k) => [k, (g as unknown as Record<string, unknown>)[k] ?? false]));
}

function tensorName(i: number, which: string): string {
  return `${OPTIM_PREFIX}${i}.${which}`;
}

/**
 * The record's settings: one group's in the record itself (as in files from before groups), several in `groups`, each
 * with its parameter count.
 */
function settingsOf(optimizer: CheckpointOptimizer, keys: readonly string[]): object {
  const groups = optimizer.paramGroups.map((group) => {
    const g = group as unknown as Record<string, unknown>;
    return Object.fromEntries(keys.map((k) => [k, Array.isArray(g[k]) ? [...g[k]] : g[k]]));
  });
  if (groups.length === 1) return groups[0];
  return { groups: groups.map((g, i) => ({ params: optimizer.paramGroups[i].params.length, ...g })) };
}

/** Adds the optimizer's tensors to `dict` and returns its record. Buffers are shared, not copied (saved at once). */
export function optimizerState(optimizer: CheckpointOptimizer, dict: Record<string, Tensor>): OptimizerMeta {
  if (optimizer instanceof SGD) {
    const buffers = optimizer.params.map((p, i) => {
      const buf = optimizer.stateOf(i).momentumBuffer;
      if (buf !== null) dict[tensorName(i, SGD_TENSOR)] = new Tensor(buf, p.data.shape);
      return buf !== null;
    });
    return { type: 'SGD', ...settingsOf(optimizer, SGD_GROUP_KEYS), buffers } as SGDMeta;
  }
  const steps = optimizer.params.map((p, i) => {
    const s = optimizer.stateOf(i);
    dict[tensorName(i, 'exp_avg')] = new Tensor(s.expAvg, p.data.shape);
    dict[tensorName(i, 'exp_avg_sq')] = new Tensor(s.expAvgSq, p.data.shape);
    if (s.maxExpAvgSq) dict[tensorName(i, AMSGRAD_TENSOR)] = new Tensor(s.maxExpAvgSq, p.data.shape);
    return s.step;
  });
  const type = typeOf(optimizer) as AdamMeta['type'];
  return { type, ...settingsOf(optimizer, ADAM_GROUP_KEYS), steps } as AdamMeta;
}

/**
 * Checks a record read from a file field by field, each as the optimizer's constructor checks it (lib/check.ts);
 * `bad` throws the file's FileFormatError with the check's message.
 */
export function checkOptimizerMeta(o: unknown, bad: (detail: string) => never): asserts o is OptimizerMeta {
  const shape =
    'optimizer must be { type: "Adam" | "AdamW", lr, betas, eps, weightDecay, amsgrad?, maximize?, steps } or { type: "SGD", lr, momentum, dampening, nesterov, weightDecay, maximize?, buffers }, with several parameter groups { type, groups: [{ params, lr, ... }], steps | buffers }';
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
  const perParam = sgd ? 'buffers' : 'steps';
  const groupKeys: readonly string[] = sgd ? SGD_GROUP_KEYS : ADAM_GROUP_KEYS;
  const grouped = r.groups !== undefined;
  const keys = ['type', ...(grouped ? ['groups'] : groupKeys), perParam];
  const unexpected = (rec: Record<string, unknown>, allowed: readonly string[], what: string): void => {
    const extra = Object.keys(rec).filter((k) => !allowed.includes(k));
    if (extra.length) bad(`${what} has unexpected fields ${extra.join(', ')}; ${shape}`);
  };
  unexpected(r, keys, 'optimizer');
  fields(() => {
    const n = sgd
      ? checkArray('optimizer.buffers', r.buffers).map((b, i) => checkBool(`optimizer.buffers[${i}]`, b)).length
      : checkArray('optimizer.steps', r.steps).map((s, i) => checkInt(`optimizer.steps[${i}]`, s, 0)).length;
    if (!grouped) return checkGroupFields('optimizer', r, sgd);
    const groups = checkArray('optimizer.groups', r.groups);
    if (groups.length === 0) throw new RangeError('optimizer.groups is empty');
    let total = 0;
    groups.forEach((g, i) => {
      const what = `optimizer.groups[${i}]`;
      if (!isOptionsObject(g)) throw new TypeError(`${what} must be an object, got ${describe(g)}`);
      unexpected(g, ['params', ...groupKeys], what);
      total += checkInt(`${what}.params`, g.params, 1);
      checkGroupFields(what, g, sgd);
    });
    if (total !== n) throw new RangeError(`optimizer.groups hold ${total} parameters, optimizer.${perParam} ${n}`);
  });
}

/** One group's settings, checked as the optimizer's constructor checks them; `what` is "optimizer" or "optimizer.groups[i]". */
function checkGroupFields(what: string, r: Record<string, unknown>, sgd: boolean): void {
  const min0 = { min: 0 };
  checkNumber(`${what}.lr`, r.lr, min0);
  checkNumber(`${what}.weightDecay`, r.weightDecay, min0);
  if (r.maximize !== undefined) checkBool(`${what}.maximize`, r.maximize);
  if (r.amsgrad !== undefined) checkBool(`${what}.amsgrad`, r.amsgrad);
  if (sgd) {
    checkNumber(`${what}.momentum`, r.momentum, min0);
    checkNumber(`${what}.dampening`, r.dampening); // any value, as in PyTorch
    checkBool(`${what}.nesterov`, r.nesterov);
  } else {
    const betas = checkArray(`${what}.betas`, r.betas, 2);
    betas.forEach((b, i) => checkNumber(`${what}.betas[${i}]`, b, { min: 0, maxExclusive: 1 }));
    checkNumber(`${what}.eps`, r.eps, min0);
  }
}

/**
 * Checks that a file's optimizer record and tensors fit `optimizer` (type, parameter groups, hyperparameters,
 * parameter count, every tensor present with the parameter's size, no other `optim.*` tensor) and returns the function
 * that puts them in. Nothing changes until it is called. `bad` throws the file's FileFormatError.
 */
export function prepareOptimizerRestore(
  o: OptimizerMeta,
  tensors: Record<string, Tensor>,
  optimizer: CheckpointOptimizer,
  bad: (detail: string) => never,
): () => void {
  const type = typeOf(optimizer);
  if (o.type !== type) bad(`the optimizer is ${o.type}, this run uses ${type}`);
  const sgd = o.type === 'SGD';
  const saved = groupsOf(o);
  const mine = groupsOf(optimizerState(optimizer, {}));
  if (saved.length !== mine.length)
    bad(`the optimizer has ${saved.length} parameter group(s), this run has ${mine.length}`);
  saved.forEach((group, g) => {
    const [was, now] = [hyperparameters(sgd, group), hyperparameters(sgd, mine[g])];
    const whose = saved.length === 1 ? "the optimizer's" : `parameter group ${g}'s`;
    for (const k of Object.keys(now)) {
      if (JSON.stringify(was[k]) === JSON.stringify(now[k])) continue;
      // A file from before amsgrad was saved has no running maximum to resume from.
      const old =
        k === 'amsgrad' && (group as AdamGroupMeta).amsgrad === undefined
          ? ' (a checkpoint without amsgrad state)'
          : '';
      bad(`${whose} ${k} is ${JSON.stringify(was[k])}${old}, this run uses ${JSON.stringify(now[k])}`);
    }
  });
  const n = optimizer.params.length;
  const perParam = o.type === 'SGD' ? o.buffers : o.steps;
  if (perParam.length !== n) bad(`${perParam.length} optimizer parameters, this run has ${n}`);
  saved.forEach((group, g) => {
    if (group.params !== mine[g].params)
      bad(`parameter group ${g} holds ${group.params} parameters, this run's holds ${mine[g].params}`);
  });
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
    // Each parameter's state as its group's amsgrad has it (the groups' amsgrad flags were compared above).
    const amsgrad = optimizer.params.map((_, i) => (optimizer as Adam).stateOf(i).maxExpAvgSq !== null);
    const moments = o.steps.map((_, i) =>
      (amsgrad[i] ? [...ADAM_TENSORS, AMSGRAD_TENSOR] : ADAM_TENSORS).map((which) => read(i, which)),
    );
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
    optimizer.paramGroups.forEach((group, g) => (group.lr = saved[g].lr));
  };
}

/** Checks that `optimizer` is one a checkpoint holds. */
export function isCheckpointOptimizer(optimizer: unknown): optimizer is CheckpointOptimizer {
  return optimizer instanceof Adam || optimizer instanceof SGD;
}
