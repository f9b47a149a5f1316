// SPDX-License-Identifier: MIT
// Weight versions of a model's compiled programs for predictAsync(): one immutable native copy of the weights per
// version, made only when the weights changed, shared by every batch in flight and by the programs of every sample shape.
import { native, type ProgramSnapshot } from '../native';
import type { Module } from './module';
import type { CompiledProgram } from './program';

interface Current {
  snapshot: ProgramSnapshot;
  /** The live arrays it was copied from (program.sources), compared by identity, then by content. */
  sources: Float32Array[];
}

/** The snapshot each model's next batch uses; older ones live on only while a batch holds them. */
const current = new WeakMap<Module, Current>();

/**
 * The snapshot of `model`'s weights as they are now, for running `program` (one of its compiled programs: the programs
 * of different sample shapes list the same sources and the same params in the same order, so they share it).
 *
 * What counts as a change is any write to any value the program reads (program.sources: weights, biases, folded
 * BatchNorm statistics and affine parameters), whoever makes it: the live arrays are compared bit for bit with the
 * snapshot (one memcmp of the weights), so optimizer steps, loadStateDict() and direct writes into a parameter's
 * Float32Array are all seen. A new snapshot is made (BatchNorm folds refreshed first) only when they differ; the old
 * one is released, and batches still running keep their share until they end.
 */
export function currentSnapshot(model: Module, program: CompiledProgram): ProgramSnapshot {
  const entry = current.get(model);
  if (
    entry !== undefined &&
    sameArrays(entry.sources, program.sources) &&
    native.programSnapshotMatches(entry.snapshot, program.sources)
  ) {
    return entry.snapshot;
  }
  return newSnapshot(model, program, entry);
}

/**
 * Runs `program` on `n` images from `input` into `output` on this thread with the weights as they are now: on the
 * current snapshot when they have not changed (compared as currentSnapshot does, but inside the run, so its threads
 * share the comparison: at batch 1 it is a few % of a ResNet-20 predict()), else on a new one.
 */
export function runOnCurrentSnapshot(
  model: Module,
  program: CompiledProgram,
  input: Float32Array,
  output: Float32Array,
  n: number,
): void {
  const entry = current.get(model);
  if (
    entry !== undefined &&
    sameArrays(entry.sources, program.sources) &&
    native.runProgramSnapshot(program.code, entry.snapshot, input, output, n, program.sources)
  ) {
    return;
  }
  native.runProgramSnapshot(program.code, newSnapshot(model, program, entry), input, output, n);
}

/** A snapshot of the weights as they are now (BatchNorm folds refreshed first), which replaces `entry`'s. */
function newSnapshot(model: Module, program: CompiledProgram, entry: Current | undefined): ProgramSnapshot {
  program.refresh();
  const snapshot = native.createProgramSnapshot(program.params, program.sources);
  if (entry !== undefined) native.releaseProgramSnapshot(entry.snapshot);
  current.set(model, { snapshot, sources: program.sources.slice() });
  return snapshot;
}

function sameArrays(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
