// SPDX-License-Identifier: MIT
// Weight versions of compiled programs for predictAsync(): one immutable native copy of a program's
// weights per version, made only when the weights changed, shared by every batch in flight.
import { native, type ProgramSnapshot } from '../native';
import type { CompiledProgram } from './program';

/** The snapshot each program's next run uses; older ones live on only while a run holds them. */
const current = new WeakMap<CompiledProgram, ProgramSnapshot>();

/**
 * The snapshot of `program`'s weights as they are now. What counts as a change is any write to any
 * value the program reads (program.sources: weights, biases, folded BatchNorm statistics), whoever
 * makes it: the live arrays are compared bit for bit with the snapshot (one memcmp of the weights),
 * so optimizer steps, loadStateDict() and direct writes to a parameter's Float32Array are all seen.
 * A new snapshot is made (BatchNorm folds refreshed first) only when they differ; the old one is
 * released, and runs still in flight keep their share until they finish.
 */
export function currentSnapshot(program: CompiledProgram): ProgramSnapshot {
  const snapshot = current.get(program);
  if (snapshot !== undefined && native.programSnapshotMatches(snapshot, program.sources)) return snapshot;
  program.refresh();
  const next = native.createProgramSnapshot(program.params, program.sources);
  if (snapshot !== undefined) native.releaseProgramSnapshot(snapshot);
  current.set(program, next);
  return next;
}

/** Drops `program`'s current snapshot now rather than when the program is garbage-collected. */
export function releaseSnapshot(program: CompiledProgram): void {
  const snapshot = current.get(program);
  if (snapshot === undefined) return;
  native.releaseProgramSnapshot(snapshot);
  current.delete(program);
}
