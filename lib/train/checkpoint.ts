// SPDX-License-Identifier: MIT
// Training checkpoints: weights, optimizer state (checkpoint-optimizer.ts), schedule, generator states, position,
// settings and history in one safetensors file (atomic writes), and restoring them so a resumed run is bit-identical.
import * as path from 'path';
import { describe } from '../check';
import { FileFormatError } from '../errors';
import { readSafetensors, saveSafetensors } from '../io/safetensors';
import { Module } from '../modules/module';
import type { LRScheduler } from '../optim/lr-scheduler';
import { defaultGenerator, Generator } from '../random';
import { Tensor } from '../tensor/tensor';
import {
  checkOptimizerMeta,
  isCheckpointOptimizer,
  OPTIM_PREFIX,
  optimizerState,
  prepareOptimizerRestore,
  type CheckpointOptimizer,
  type OptimizerMeta,
} from './checkpoint-optimizer';
import type { EpochRecord, FitPosition } from './trainer';

/** The one file a checkpoint folder holds (only the latest checkpoint is kept). */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** `__metadata__` key of the checkpoint's JSON. */
export const CHECKPOINT_KEY = 'simdnet.checkpoint';
/** Version of the JSON layout; readers reject other versions. */
export const CHECKPOINT_VERSION = 1;

/** The run's settings (dataset, recipe, seed, batch size, epochs, lr, ...): JSON scalars, compared on resume. */
export type CheckpointSettings = Record<string, string | number | boolean | null>;

/** What a checkpoint captures; the objects are read when saving and written when restoring. */
export interface TrainingState {
  model: Module;
  /** Adam, AdamW or SGD. */
  optimizer: CheckpointOptimizer;
  scheduler?: LRScheduler;
  settings: CheckpointSettings;
}

/** The JSON stored under CHECKPOINT_KEY. */
export interface CheckpointMeta {
  version: number;
  position: { epoch: number; batch: number };
  /** Training totals of the current epoch so far. */
  partial: { lossSum: number; count: number; correct: number };
  history: EpochRecord[];
  optimizer: OptimizerMeta;
  scheduler: { type: string; lastEpoch: number } | null;
  /** Generator states (4 uint32 each): the default generator, and every module generator by module path. */
  generators: { default: number[]; modules: Record<string, number[]> };
  settings: CheckpointSettings;
}

/** A checkpoint read from disk (validated structurally; restoreCheckpoint checks it fits the objects). */
export interface Checkpoint {
  file: string;
  meta: CheckpointMeta;
  tensors: Record<string, Tensor>;
}

/** `dir`/checkpoint.safetensors. */
export function checkpointPath(dir: string): string {
  return path.join(dir, CHECKPOINT_FILE);
}

/** Every Generator owned by a module of `model` (Dropout's `generator`), by module path ("" for the root). */
export function moduleGenerators(model: Module): [string, Generator][] {
  const out: [string, Generator][] = [];
  const visit = (m: Module, prefix: string): void => {
    for (const value of Object.values(m)) if (value instanceof Generator) out.push([prefix, value]);
    for (const [name, child] of m.namedChildren()) visit(child, prefix === '' ? name : `${prefix}.${name}`);
  };
  visit(model, '');
  return out;
}

function generatorKey(name: string, index: number, all: [string, Generator][]): string {
  // A module with two generators (none does today) still gets distinct keys.
  const same = all.filter(([n]) => n === name).length;
  return same === 1 ? name : `${name}#${index}`;
}

function namedGenerators(model: Module): Map<string, Generator> {
  const all = moduleGenerators(model);
  const map = new Map<string, Generator>();
  const seen = new Map<string, number>();
  for (const [name, g] of all) {
    const i = seen.get(name) ?? 0;
    seen.set(name, i + 1);
    map.set(generatorKey(name, i, all), g);
  }
  return map;
}

/**
 * Writes a checkpoint of `state` at `position` to `file` with saveSafetensors: temp file, fsync, rename,
 * so the previous checkpoint stays valid until the new one is complete. The tensors are the model's
 * state dict (its own names) plus the optimizer's: `optim.<i>.exp_avg` / `optim.<i>.exp_avg_sq` (Adam, AdamW), or
 * `optim.<i>.momentum_buffer` for each parameter that has one (SGD).
 */
export function saveCheckpoint(file: string, state: TrainingState, position: FitPosition): void {
  const { model, optimizer, scheduler, settings } = checkState('saveCheckpoint', state);
  const dict: Record<string, Tensor> = { ...model.stateDict() };
  for (const name of Object.keys(dict)) {
    if (name.startsWith(OPTIM_PREFIX))
      throw new RangeError(
        `saveCheckpoint: the model has a tensor named '${name}', which clashes with the optimizer's '${OPTIM_PREFIX}*' names`,
      );
  }
  const optimizerMeta = optimizerState(optimizer, dict);
  const modules: Record<string, number[]> = {};
  for (const [name, g] of namedGenerators(model)) modules[name] = g.getState();
  const meta: CheckpointMeta = {
    version: CHECKPOINT_VERSION,
    position: { epoch: position.epoch, batch: position.batch },
    partial: { lossSum: position.lossSum, count: position.count, correct: position.correct },
    history: position.epochs,
    optimizer: optimizerMeta,
    scheduler: scheduler === undefined ? null : { type: scheduler.constructor.name, ...scheduler.stateDict() },
    generators: { default: defaultGenerator.getState(), modules },
    settings,
  };
  saveSafetensors(file, dict, { [CHECKPOINT_KEY]: JSON.stringify(meta) });
}

/**
 * Reads a checkpoint file and checks its structure.
 * @throws FileFormatError naming the file for anything that is not a version-1 simdnet checkpoint; fs errors as Node throws them.
 */
export function readCheckpoint(file: string): Checkpoint {
  const { tensors, metadata } = readSafetensors(file);
  const text = metadata[CHECKPOINT_KEY];
  if (text === undefined) throw new FileFormatError(file, `not a simdnet checkpoint (no "${CHECKPOINT_KEY}" metadata)`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    throw new FileFormatError(file, `the "${CHECKPOINT_KEY}" metadata is not valid JSON (${(err as Error).message})`);
  }
  const bad = (detail: string): never => {
    throw new FileFormatError(file, `bad checkpoint metadata: ${detail}`);
  };
  if (meta === null || typeof meta !== 'object') bad('not an object');
  if (meta.version !== CHECKPOINT_VERSION)
    bad(`version ${describe(meta.version)}, this simdnet reads version ${CHECKPOINT_VERSION}`);
  const nat = (v: unknown, what: string, min = 0): void => {
    if (!Number.isSafeInteger(v) || (v as number) < min)
      bad(`${what} must be an integer >= ${min}, got ${describe(v)}`);
  };
  nat(meta.position?.epoch, 'position.epoch', 1);
  nat(meta.position?.batch, 'position.batch');
  nat(meta.partial?.count, 'partial.count');
  nat(meta.partial?.correct, 'partial.correct');
  if (typeof meta.partial?.lossSum !== 'number') bad('partial.lossSum must be a number');
  if (!Array.isArray(meta.history) || meta.history.length !== meta.position.epoch - 1)
    bad(`history must list the ${meta.position.epoch - 1} finished epochs`);
  checkOptimizerMeta(meta.optimizer, bad);
  if (meta.scheduler !== null && (typeof meta.scheduler !== 'object' || typeof meta.scheduler.type !== 'string'))
    bad('scheduler must be null or { type, lastEpoch }');
  if (meta.scheduler !== null) nat(meta.scheduler.lastEpoch, 'scheduler.lastEpoch');
  const state = (v: unknown, what: string): void => {
    if (!Array.isArray(v) || v.length !== 4 || v.some((x) => !Number.isInteger(x) || x < 0 || x >= 2 ** 32))
      bad(`${what} must be 4 unsigned 32-bit integers`);
  };
  state(meta.generators?.default, 'generators.default');
  if (meta.generators.modules === null || typeof meta.generators.modules !== 'object')
    bad('generators.modules must be an object');
  for (const [k, v] of Object.entries(meta.generators.modules)) state(v, `generators.modules["${k}"]`);
  if (meta.settings === null || typeof meta.settings !== 'object' || Array.isArray(meta.settings))
    bad('settings must be an object');
  return { file, meta, tensors };
}

/**
 * Puts a checkpoint's state into freshly built objects: weights and buffers, the optimizer's state (Adam moments
 * and step counts, or SGD momentum buffers) and lr, the schedule, the default and module generators. Everything is checked first, so
 * on a mismatch nothing changes. Returns the position to pass to fit() as `resumeFrom`.
 * (Settings are not compared here: see settingsMismatches.)
 * @throws FileFormatError naming the file when the checkpoint does not fit the objects.
 */
export function restoreCheckpoint(ck: Checkpoint, state: Omit<TrainingState, 'settings'>): FitPosition {
  const { model, optimizer, scheduler } = checkState('restoreCheckpoint', { ...state, settings: {} });
  const { meta, tensors, file } = ck;
  const bad = (detail: string): never => {
    throw new FileFormatError(file, `does not fit this run: ${detail}`);
  };
  const modelDict: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (!k.startsWith(OPTIM_PREFIX)) modelDict[k] = t;
  const restoreOptimizer = prepareOptimizerRestore(meta.optimizer, tensors, optimizer, bad);
  if ((meta.scheduler === null) !== (scheduler === undefined))
    bad(
      meta.scheduler === null
        ? 'it has no schedule, this run has one'
        : `it has a ${meta.scheduler!.type} schedule, this run has none`,
    );
  if (meta.scheduler !== null && scheduler !== undefined && meta.scheduler.type !== scheduler.constructor.name)
    bad(`the schedule is ${meta.scheduler.type}, this run uses ${scheduler.constructor.name}`);
  const gens = namedGenerators(model);
  const saved = Object.keys(meta.generators.modules).sort();
  const mine = [...gens.keys()].sort();
  if (saved.join('\n') !== mine.join('\n'))
    bad(`module generators [${saved.join(', ')}], this model has [${mine.join(', ')}]`);
  // Throws (changing nothing) for missing, unexpected or misshapen weights.
  try {
    model.loadStateDict(modelDict);
  } catch (err) {
    bad((err as Error).message);
  }
  if (scheduler !== undefined && meta.scheduler !== null)
    scheduler.loadStateDict({ lastEpoch: meta.scheduler.lastEpoch });
  restoreOptimizer(); // after the schedule, which also sets lr (to the same value)
  defaultGenerator.setState(meta.generators.default);
  for (const [name, g] of gens) g.setState(meta.generators.modules[name]);
  return {
    epoch: meta.position.epoch,
    batch: meta.position.batch,
    epochs: meta.history,
    lossSum: meta.partial.lossSum,
    count: meta.partial.count,
    correct: meta.partial.correct,
  };
}

/** Settings whose values differ: [name, saved value, current value] for each (keys of either side). */
export function settingsMismatches(
  saved: CheckpointSettings,
  current: CheckpointSettings,
): [string, unknown, unknown][] {
  const keys = [...new Set([...Object.keys(current), ...Object.keys(saved)])];
  return keys
    .filter((k) => !Object.is(saved[k] ?? null, current[k] ?? null))
    .map((k) => [k, saved[k] ?? null, current[k] ?? null]);
}

function checkState(what: string, state: TrainingState): TrainingState {
  if (state === null || typeof state !== 'object')
    throw new TypeError(`${what}: state must be { model, optimizer, scheduler?, settings }, got ${describe(state)}`);
  if (!(state.model instanceof Module))
    throw new TypeError(`${what}: model must be a Module, got ${describe(state.model)}`);
  if (!isCheckpointOptimizer(state.optimizer))
    throw new TypeError(`${what}: optimizer must be an Adam, AdamW or SGD, got ${describe(state.optimizer)}`);
  if (state.scheduler !== undefined && (state.scheduler === null || typeof state.scheduler.stateDict !== 'function')) {
    throw new TypeError(`${what}: scheduler must be an LRScheduler, got ${describe(state.scheduler)}`);
  }
  if (state.settings === null || typeof state.settings !== 'object')
    throw new TypeError(`${what}: settings must be an object, got ${describe(state.settings)}`);
  return state;
}
