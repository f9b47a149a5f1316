// SPDX-License-Identifier: MIT
// Compiles a model into a native inference program (see native/ops/program.h) when every step is one the native side
// runs: each layer kind declares its op (lib/layers/, `program`), graph ops too; an eval-mode BatchNorm with running
// statistics is folded into the Conv2d or Linear before it, Dropout and Flatten vanish, a ReLU after a conv, linear or
// add is fused into it, and an add of a conv's output and a shortcut runs in the conv (program-residual.ts). Graphs
// keep values that are read later in numbered slots (save / load ops).
import { layerRule, opRule } from '../layers/registry';
import type { GraphOp } from './graph-op';
import { Module } from './module';
import { OP, sampleSize, type ProgramEmitter } from './program-code';
import { fuseResiduals } from './program-residual';
import { ReLU } from './relu';

export interface CompiledProgram {
  code: Int32Array;
  /** Parameter arrays: the layers' own (weight updates need no recompilation) or folded copies. */
  params: Float32Array[];
  /**
   * Every live array the params hold or are computed from (weights, biases, folded BatchNorms'
   * statistics and affine parameters): the program's results change exactly when one of these does.
   */
  sources: Float32Array[];
  /** Output shape for one image (without the batch dimension). */
  outShape: number[];
  /** Recomputes the folded copies from the current weights and statistics; call before each run. */
  refresh(): void;
}

/** One leaf step of a model: a layer or a graph op, reading earlier steps' outputs (-1: the model's input). */
export interface ProgramStep {
  module?: Module;
  op?: GraphOp;
  inputs: number[];
}

/** A container that lays its leaves out as steps (Graph does; Sequential's children are expanded by the caller). */
export interface StepSource {
  /** Appends the container's steps reading value `input`; returns the value of its output. */
  appendSteps(steps: ProgramStep[], input: number): number;
}

/** Appends the steps of `module` reading `input` (a leaf is one step); returns the output value. */
export function appendModuleSteps(steps: ProgramStep[], module: Module, input: number): number {
  const source = module as Partial<StepSource>;
  if (typeof source.appendSteps === 'function') return source.appendSteps(steps, input);
  steps.push({ module, inputs: [input] });
  return steps.length - 1;
}

/**
 * Builds the program running `layers` in order on images of shape `imageShape` (without the
 * batch dimension), or returns null when a layer is one the native executor does not know.
 * The program computes eval-mode results (as predict() does).
 */
export function compileProgram(layers: readonly Module[], imageShape: readonly number[]): CompiledProgram | null {
  const steps: ProgramStep[] = [];
  let x = -1;
  for (const layer of layers) x = appendModuleSteps(steps, layer, x);
  return compileSteps(steps, x, imageShape);
}

/** The program of a module with steps of its own (a Graph) for samples of `imageShape`, or null. */
export function compileGraphProgram(model: Module & StepSource, imageShape: readonly number[]): CompiledProgram | null {
  const steps: ProgramStep[] = [];
  const out = model.appendSteps(steps, -1);
  return compileSteps(steps, out, imageShape);
}

interface Analysed {
  /** Output shape of each step, batch 1 first. */
  shapes: number[][];
  /** Each step's inputs after identities and folded BatchNorms are looked through. */
  inputs: number[][];
  /** Steps that run (others are identities, folded norms or fused ReLUs). */
  live: boolean[];
  /** The BatchNorm folded into a weighted step. */
  norm: (Module | null)[];
  /** Reads of each value by live steps (index value + 1; 0 is the input). */
  reads: number[];
  output: number;
}

/**
 * The shapes (validating every step), then identities and BatchNorm folding resolved; null when a step cannot run
 * natively in this position (a BatchNorm with no weighted layer to fold into, an unknown layer).
 */
function analyse(steps: readonly ProgramStep[], output: number, imageShape: readonly number[]): Analysed | null {
  const input = [1, ...imageShape];
  const shapes: number[][] = [];
  const alias = steps.map((_, k) => k);
  const live = steps.map(() => true);
  const norm: (Module | null)[] = steps.map(() => null);
  const rules: ReturnType<typeof ruleOf>[] = [];
  // Pass 1: shapes (validating every step), identities looked through, reads counted.
  const readers = new Array<number>(steps.length + 1).fill(0);
  const inputs = steps.map((step, k) => {
    const ins = step.inputs.map((v) => resolveDeep(v, alias));
    // Shapes follow the steps as written (an identity may reshape); values follow the aliases.
    shapes.push(
      step.module
        ? step.module.outputShape(shapeAt(step.inputs[0]))
        : (step.op as GraphOp).outputShape(step.inputs.map(shapeAt)),
    );
    rules.push(ruleOf(step));
    if (rules[k] === 'identity') {
      alias[k] = ins[0];
      live[k] = false;
    } else {
      for (const v of ins) readers[v + 1]++;
    }
    return ins;
  });
  function shapeAt(v: number): number[] {
    return v < 0 ? input : shapes[v];
  }
  // Pass 2: BatchNorms folded into the weighted step before them.
  for (const [k, step] of steps.entries()) {
    const rule = rules[k];
    if (rule === undefined) return null;
    if (rule !== 'batchnorm') continue;
    const producer = inputs[k][0];
    const weighted = producer >= 0 ? steps[producer].module : undefined;
    const folds = weighted && norm[producer] === null ? layerRule(weighted, 'foldsBatchNorm') : undefined;
    const stats = (step.module as { runningMean?: unknown }).runningMean;
    // Batch statistics even in eval mode, nothing to fold into, or the producer's output is read elsewhere too.
    if (!folds || !folds(weighted as Module, step.module as Module) || !stats || readers[producer + 1] !== 1)
      return null;
    norm[producer] = step.module as Module;
    alias[k] = producer;
    live[k] = false;
  }
  const reads = new Array<number>(steps.length + 1).fill(0);
  const final = inputs.map((ins) => ins.map((v) => resolveDeep(v, alias)));
  for (const [k, ins] of final.entries()) if (live[k]) for (const v of ins) reads[v + 1]++;
  return { shapes, inputs: final, live, norm, reads, output: resolveDeep(output, alias) };
}

function ruleOf(step: ProgramStep) {
  return step.module ? layerRule(step.module, 'program') : opRule(step.op as GraphOp);
}

function resolveDeep(v: number, alias: readonly number[]): number {
  while (v >= 0 && alias[v] !== v) v = alias[v];
  return v;
}

/** The program for leaf `steps` whose value `output` is the result, or null when a step cannot run natively. */
function compileSteps(
  steps: readonly ProgramStep[],
  output: number,
  imageShape: readonly number[],
): CompiledProgram | null {
  const a = analyse(steps, output, imageShape);
  if (a === null || a.output < 0) return null;
  const residuals = fuseResiduals(steps, a, [1, ...imageShape]);
  const code: number[] = [];
  const params: Float32Array[] = [];
  const sources: Float32Array[] = [];
  const folds: (() => void)[] = [];
  const param = (t: Float32Array): number => params.push(t) - 1;
  const order = steps.map((_, k) => k).filter((k) => a.live[k]);
  const fused = new Set<number>();
  // Value slots: a value read later than by the very next step (or read twice) is saved into a slot.
  const slotOf = new Map<number, number>();
  const freeSlots: number[] = [];
  let slots = 0;
  const left = [...a.reads];
  let current = -1;
  const input = [1, ...imageShape];
  const shapeOf = (v: number) => (v < 0 ? input : a.shapes[v]);
  const release = (v: number): void => {
    if (--left[v + 1] === 0 && slotOf.has(v)) {
      freeSlots.push(slotOf.get(v) as number);
      slotOf.delete(v);
    }
  };
  // The input too is saved when a step other than the first reads it.
  // Whether step j reads value v as its current value (a layer reads only its first input so: a fused conv's second
  // input, its residual, comes from a slot unless it is the conv's own input).
  const readsCurrent = (j: number, v: number) => (steps[j].module ? a.inputs[j][0] === v : a.inputs[j].includes(v));
  const firstReadsInput = order.length > 0 && readsCurrent(order[0], -1);
  if (left[0] > 1 || (left[0] === 1 && !firstReadsInput)) code.push(OP.save, assign(-1), sampleSize(input));
  for (const [i, k] of order.entries()) {
    if (fused.has(k)) continue;
    const step = steps[k];
    const ins = a.inputs[k];
    const single = step.module !== undefined || ins.length === 1;
    // The value a one-input step reads (and the first input of a binary op) must be in the register.
    const needCurrent = single ? ins[0] : ins.includes(current) ? current : ins[0];
    if (current !== needCurrent) {
      code.push(OP.load, slotFor(needCurrent), sampleSize(shapeOf(needCurrent)));
      current = needCurrent;
    }
    let usedCurrent = false;
    let residualTaken = false;
    const emitter: ProgramEmitter & OpOperands = {
      inShape: shapeOf(step.inputs[0]),
      outShape: a.shapes[k],
      inShapes: step.inputs.map(shapeOf),
      emit: (...fields) => void code.push(...fields),
      param,
      weights: (layer) => {
        const norm = a.norm[k];
        sources.push(...[layer.weight, layer.bias].flatMap((w) => (w ? [w.data.data] : [])));
        if (!norm) return [param(layer.weight.data.data), layer.bias ? param(layer.bias.data.data) : -1];
        const weight = new Float32Array(layer.weight.data.data.length);
        const bias = new Float32Array((norm as unknown as { numFeatures: number }).numFeatures);
        const bn = norm as unknown as BatchNormLike;
        for (const t of [bn.runningMean, bn.runningVar, bn.weight?.data, bn.bias?.data]) if (t) sources.push(t.data);
        folds.push(() => foldBatchNorm(weight, bias, layer, norm as unknown as BatchNormLike));
        return [param(weight), param(bias)];
      },
      fuseRelu: () => {
        const readers = order.filter((j) => !fused.has(j) && a.inputs[j].includes(k));
        const next = readers.length === 1 && a.reads[k + 1] === 1 ? readers[0] : undefined;
        if (next === undefined || steps[next].module?.constructor !== ReLU) return false;
        fused.add(next);
        aliasFused(a, next, k);
        left[k + 1] = a.reads[k + 1];
        return true;
      },
      residual: () => {
        const r = residuals.get(k);
        if (r === undefined) return null;
        residualTaken = true;
        // ins[1] is the residual's value (fused ReLUs aliased since); the conv's own input is current, read as x.
        return [ins[1] === current ? -1 : slotFor(ins[1]), ...r.fields];
      },
      operand: (j) => {
        const v = ins[j];
        if (v === current && !usedCurrent) {
          usedCurrent = true;
          return -1;
        }
        return slotFor(v);
      },
    };
    const rule = ruleOf(step);
    const ok =
      typeof rule === 'function' && (rule as (m: unknown, p: unknown) => boolean)(step.module ?? step.op, emitter);
    // A conv rule that ignored its fused residual would drop the add: run in JavaScript instead.
    if (!ok || (residuals.has(k) && !residualTaken)) return null;
    current = k;
    // Fused ReLUs were aliased to k: their readers read k now.
    const later = order.slice(i + 1).filter((j) => !fused.has(j));
    const readsLeft = left[k + 1];
    const nextReadsIt = later.length > 0 && readsCurrent(later[0], k);
    if (readsLeft > 1 || (readsLeft === 1 && !nextReadsIt)) code.push(OP.save, assign(k), sampleSize(a.shapes[k]));
    // Released after the save takes its slot, so that the slot is never one this op reads: the op then writes its
    // output straight into the slot (a ResNet block's conv + add reads the shortcut's slot; saving into that same
    // slot cost a copy of every block's output, on one thread while the others waited).
    for (const v of ins) release(v);
  }
  if (current !== a.output) code.push(OP.load, slotFor(a.output), sampleSize(shapeOf(a.output)));
  if (code.length === 0) return null;
  return {
    code: Int32Array.from(code),
    params,
    sources,
    // The shape of the model's output step (an identity at the end, a Flatten, reshapes the same values).
    outShape: a.shapes[output].slice(1),
    refresh: () => folds.forEach((fold) => fold()),
  };

  function slotFor(v: number): number {
    const s = slotOf.get(v);
    if (s === undefined) throw new Error(`compileProgram: internal error: value ${v} was not saved`);
    return s;
  }
  function assign(v: number): number {
    const s = freeSlots.pop() ?? slots++;
    slotOf.set(v, s);
    return s;
  }
}

/** What a graph op's program rule reads besides ProgramEmitter: its inputs' shapes and where each input is. */
export interface OpOperands {
  readonly inShapes: readonly (readonly number[])[];
  /** Input `j`: -1 when it is the current value (the register the op reads as x), else its slot. */
  operand(j: number): number;
}

/** After ReLU step `relu` is fused into `into`, readers of the ReLU read `into`'s (rectified) output. */
function aliasFused(a: Analysed, relu: number, into: number): void {
  for (const ins of a.inputs) for (let j = 0; j < ins.length; j++) if (ins[j] === relu) ins[j] = into;
  a.reads[into + 1] = a.reads[relu + 1];
  if (a.output === relu) a.output = into;
}

interface BatchNormLike {
  numFeatures: number;
  eps: number;
  runningMean: { data: Float32Array } | null;
  runningVar: { data: Float32Array } | null;
  weight: { data: { data: Float32Array } } | null;
  bias: { data: { data: Float32Array } } | null;
}

/**
 * weight' = weight * alpha and bias' = (bias - mean) * alpha + beta per output channel, with
 * alpha = gamma / sqrt(var + eps): the eval-mode BatchNorm applied to the layer's output, computed
 * in float64 and rounded once.
 */
function foldBatchNorm(
  weight: Float32Array,
  bias: Float32Array,
  layer: { weight: { data: { data: Float32Array } }; bias: { data: { data: Float32Array } } | null },
  norm: BatchNormLike,
): void {
  const w = layer.weight.data.data;
  const b = layer.bias?.data.data;
  const mean = (norm.runningMean as { data: Float32Array }).data;
  const variance = (norm.runningVar as { data: Float32Array }).data;
  const gamma = norm.weight?.data.data;
  const beta = norm.bias?.data.data;
  const perChannel = w.length / bias.length;
  for (let c = 0; c < bias.length; c++) {
    const alpha = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + norm.eps);
    bias[c] = ((b ? b[c] : 0) - mean[c]) * alpha + (beta ? beta[c] : 0);
    for (let k = c * perChannel; k < (c + 1) * perChannel; k++) weight[k] = w[k] * alpha;
  }
}

export { sampleSize };
