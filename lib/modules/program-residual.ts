// SPDX-License-Identifier: MIT
// Residual fusion for inference programs: an add of a Conv2d's output and another value (ResNet's shortcut: the block
// input itself, a projection's output, or a strided slice of it padded with zero channels, option A) becomes the
// conv's epilogue (kOpConvAdd in native/ops/program.h), so the add, the slice and the padding are no passes of their
// own and a ReLU after the add fuses into the conv. program.ts applies it between analysis and emission.
import { Conv2d } from './conv2d';
import type { GraphOp } from './graph-op';
import { Add } from './graph-ops';
import { Pad, Slice } from './graph-ops-shape';
import type { Module } from './module';

/** What residual fusion reads and rewrites of program.ts's analysis (same meanings). */
export interface ResidualAnalysis {
  shapes: number[][];
  inputs: number[][];
  live: boolean[];
  reads: number[];
  output: number;
}

/** A step of the program (program.ts's ProgramStep). */
interface Step {
  module?: Module;
  op?: GraphOp;
}

/**
 * A conv's fused residual: the value it reads (also the conv's second input from now on) and kOpConvAdd's fields after
 * the slot (rc rh rw c0 .. count).
 */
export interface FusedResidual {
  source: number;
  fields: number[];
}

/**
 * Finds every add of a conv's output (read by nothing else) and a value computed before the conv, possibly through a
 * zero channel padding and a strided slice read by nothing else; marks the add, pad and slice dead, makes the conv read
 * the value as its second input and its readers read the conv. Returns the fused convs' residuals by step.
 */
export function fuseResiduals(
  steps: readonly Step[],
  a: ResidualAnalysis,
  input: readonly number[],
): Map<number, FusedResidual> {
  const fused = new Map<number, FusedResidual>();
  const shapeOf = (v: number) => (v < 0 ? input : a.shapes[v]);
  // A step whose value only `reader` reads (so it can vanish into the fusion).
  const privateStep = (v: number): boolean => v >= 0 && a.live[v] && a.reads[v + 1] === 1 && v !== a.output;
  for (const [k, step] of steps.entries()) {
    if (!a.live[k] || step.op?.constructor !== Add || a.inputs[k].length !== 2) continue;
    const out = a.shapes[k];
    if (out.length !== 4) continue;
    for (const j of [0, 1]) {
      const conv = a.inputs[k][j];
      if (!privateStep(conv) || steps[conv].module?.constructor !== Conv2d || fused.has(conv)) continue;
      if (!sameShape(a.shapes[conv], out)) continue;
      const residual = residualOf(a.inputs[k][1 - j], out);
      // The value must exist when the conv runs (steps are in topological order).
      if (residual === null || residual.source >= conv) continue;
      fused.set(conv, { source: residual.source, fields: residual.fields });
      for (const dead of [k, ...residual.chain]) a.live[dead] = false;
      a.inputs[conv] = [a.inputs[conv][0], residual.source];
      for (const ins of a.inputs) for (let i = 0; i < ins.length; i++) if (ins[i] === k) ins[i] = conv;
      if (a.output === k) a.output = conv;
      break;
    }
  }
  if (fused.size > 0) {
    a.reads.fill(0);
    for (const [k, ins] of a.inputs.entries()) if (a.live[k]) for (const v of ins) a.reads[v + 1]++;
  }
  return fused;

  /**
   * The residual of value `v` for a conv output of shape `out`: v itself, a slice of it, or a zero channel padding of
   * either (only padding along the channels); `chain` lists the pad and slice steps it replaces.
   */
  function residualOf(v: number, out: readonly number[]): (FusedResidual & { chain: number[] }) | null {
    const chain: number[] = [];
    let before = 0;
    let count = out[1];
    let inner = v;
    if (privateStep(v) && steps[v].op?.constructor === Pad) {
      const pad = (steps[v].op as Pad).pads;
      if ((steps[v].op as Pad).value !== 0 || pad.length !== 3 || pad.slice(1).some(([b, e]) => b !== 0 || e !== 0))
        return null;
      before = pad[0][0];
      inner = a.inputs[v][0];
      count = shapeOf(inner)[1];
      chain.push(v);
    }
    let source = inner;
    let start = [0, 0, 0, 0];
    let step = [1, 1, 1, 1];
    if (privateStep(inner) && steps[inner].op?.constructor === Slice) {
      source = a.inputs[inner][0];
      ({ start, step } = (steps[inner].op as Slice).ranges(shapeOf(source)));
      chain.push(inner);
    }
    const s = shapeOf(source);
    if (s.length !== 4 || !sameShape(shapeOf(chain.length > 0 ? chain[0] : v), out)) return null;
    return {
      source,
      chain,
      fields: [s[1], s[2], s[3], start[1], start[2], start[3], step[1], step[2], step[3], before, count],
    };
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
