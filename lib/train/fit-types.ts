// SPDX-License-Identifier: MIT
// The types of fit()'s options, positions and results (no code): trainer.ts runs them, fit-options.ts checks them.
import type { Batch } from '../data/dataset';
import type { BatchSource, LossFunction } from './evaluate';
import type { ProgressMode, ProgressReporter, ProgressStream } from './progress';

/** What fit() needs of an optimizer: Adam and every Optimizer subclass have this shape. */
export interface FitOptimizer {
  zeroGrad(): void;
  step(): void;
  lr?: number;
}

/** One finished epoch. Accuracies are fractions in [0, 1]. */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean loss per training sample over the epoch (the weights change during it, as in any training log). */
  trainLoss: number;
  trainAccuracy: number;
  /** Present when a testLoader was given. */
  testLoss?: number;
  testAccuracy?: number;
  /** Wall time of the epoch, training and evaluation. */
  seconds: number;
  /** Training images per second (evaluation time excluded). */
  imagesPerSecond: number;
}

export interface History {
  /** Finished epochs, in order. An epoch cut short by the signal is not included. */
  epochs: EpochRecord[];
  /** True when the AbortSignal stopped training early. */
  stopped: boolean;
  /** Where it stopped: 1-based epoch and the number of batches of it that ran. */
  stoppedAt?: { epoch: number; batch: number };
}

export interface FitOptions {
  trainLoader: BatchSource;
  /** Evaluated after every epoch when given. */
  testLoader?: BatchSource;
  optimizer: FitOptimizer;
  /** Default: a new CrossEntropyLoss. */
  lossFn?: LossFunction;
  /** Integer >= 1. */
  epochs: number;
  /** A mode (default 'auto': a bar on a TTY, else log lines) or your own reporter. */
  progress?: ProgressMode | FitProgressReporter;
  /** Where progress output goes. Default process.stderr. */
  progressStream?: ProgressStream;
  /**
   * After each epoch (after evaluation), the built-in progress modes other than 'none' write one line
   * with the epoch's train and test loss and accuracy (formatEpochLine). Default true; false when the
   * caller prints its own (the CLI prints it on stdout). A custom reporter gets epochSummary() calls.
   */
  epochSummary?: boolean;
  /** When given, the history is written there as JSON after every epoch (atomically). */
  historyPath?: string;
  /** Aborting stops training after the current batch; fit() then resolves with `stopped: true`. */
  signal?: AbortSignal;
  /** Called after each epoch (after the history file is written); may be async. */
  onEpochEnd?: (record: EpochRecord, history: History) => void | Promise<void>;
  /**
   * Continue a run from a saved position (see FitPosition; lib/train/checkpoint.ts saves and restores one).
   * The weights, optimizer, schedule and generators must already be restored by the caller. fit epoch k
   * runs loader epoch k - 1, so the trainLoader must be a DataLoader (setEpoch() and batches(epoch, start)).
   */
  resumeFrom?: FitPosition;
  /**
   * Checkpoint hook: `save` is called after every `every` batches of an epoch (when `every` is given),
   * after each epoch (after onEpochEnd, so a schedule stepped there is included) and when the signal
   * stops training. May be async; training waits for it.
   */
  checkpoint?: FitCheckpointHook;
}

/** Where a run is: everything fit() itself needs to continue it exactly. */
export interface FitPosition {
  /** 1-based epoch of the next batch to run (epochs + 1 when the run is complete). */
  epoch: number;
  /** Batches of `epoch` already run: the 0-based index of the next batch. */
  batch: number;
  /** Finished epochs. */
  epochs: EpochRecord[];
  /** Training totals of `epoch` so far (sum of loss x batch size, samples, correct predictions). */
  lossSum: number;
  count: number;
  correct: number;
}

export interface FitCheckpointHook {
  /** Save after every `every` batches (integer >= 1); omitted: only at epoch ends and on stop. */
  every?: number;
  save(position: FitPosition): void | Promise<void>;
}

/** A ProgressReporter that may also take each finished epoch's record (train and test metrics). */
export interface FitProgressReporter extends ProgressReporter {
  /** Called once per finished epoch, after evaluation, before onEpochEnd. */
  epochSummary?(record: EpochRecord, epochs: number): void;
}

/** What resuming needs of the train loader (DataLoader has both). */
export interface ResumableLoader {
  setEpoch(e: number): void;
  batches(e: number, start?: number): Iterable<Batch>;
}
