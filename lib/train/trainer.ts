// SPDX-License-Identifier: MIT
// fit(): the training loop (batches, NaN guard, per-epoch evaluation, history file, abort); metrics and output live elsewhere.
import { checkInt, describe, NonFiniteLossError } from '../errors';
import { writeJsonAtomic } from '../io/atomic-file';
import { CrossEntropyLoss } from '../loss/cross-entropy';
import type { Batch } from '../data/dataset';
import { Module } from '../modules/module';
import { checkBatchSource, evaluate, yieldToEventLoop, type BatchSource, type LossFunction } from './evaluate';
import { argmaxRows, ThroughputMeter } from './metrics';
import { createProgress, type ProgressMode, type ProgressReporter, type ProgressStream } from './progress';

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
  progress?: ProgressMode | ProgressReporter;
  /** Where progress output goes. Default process.stderr. */
  progressStream?: ProgressStream;
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

/** What resuming needs of the train loader (DataLoader has both). */
interface ResumableLoader {
  setEpoch(e: number): void;
  batches(e: number, start?: number): Iterable<Batch>;
}

/**
 * Trains `model` for `epochs` passes over `trainLoader`. Per batch: zeroGrad, forward, loss,
 * backward (without the input gradient), step. It yields to the event loop between batches, so it never blocks a server for
 * longer than one batch and an AbortSignal can stop it. The model is left in training mode.
 *
 * @throws NonFiniteLossError when a batch's loss is NaN or infinite (the weights are then unusable).
 * @example
 * const history = await fit(model, {
 *   trainLoader: new DataLoader(train, { batchSize: 64, shuffle: true }),
 *   testLoader: new DataLoader(test, { batchSize: 256 }),
 *   optimizer: new Adam(model.parameters(), { lr: 1e-3 }),
 *   epochs: 10,
 * });
 */
export async function fit(model: Module, options: FitOptions): Promise<History> {
  const o = checkFitOptions(model, options);
  const start = o.resumeFrom;
  const history: History = { epochs: start ? [...start.epochs] : [], stopped: false };
  const lossFn = o.lossFn ?? new CrossEntropyLoss();
  const progress =
    typeof o.progress === 'object' ? o.progress : createProgress({ mode: o.progress, stream: o.progressStream });
  const totalBatches = typeof o.trainLoader.length === 'number' ? o.trainLoader.length : undefined;
  const every = o.checkpoint?.every;
  const position = (epoch: number, batch: number, lossSum = 0, count = 0, correct = 0): FitPosition => ({
    epoch,
    batch,
    epochs: [...history.epochs],
    lossSum,
    count,
    correct,
  });
  const stop = async (at: FitPosition): Promise<History> => {
    history.stopped = true;
    history.stoppedAt = { epoch: at.epoch, batch: at.batch };
    if (o.historyPath !== undefined) writeJsonAtomic(o.historyPath, history);
    await o.checkpoint?.save(at);
    return history;
  };
  const firstEpoch = start ? start.epoch : 1;
  if (start) (o.trainLoader as unknown as ResumableLoader).setEpoch(start.epoch - 1);
  if (o.signal?.aborted) return stop(start ? { ...start, epochs: [...history.epochs] } : position(1, 0));

  for (let epoch = firstEpoch; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    // Training loss totals as RunningMean keeps them (sum of loss x batch size, samples), kept here so a checkpoint can carry them exactly.
    let lossSum = 0;
    let count = 0;
    const meter = new ThroughputMeter();
    let correct = 0;
    let batch = 0;
    let batches: Iterable<Batch> = o.trainLoader;
    let resumedCount = 0;
    if (start && epoch === firstEpoch) {
      lossSum = start.lossSum;
      count = start.count;
      resumedCount = start.count;
      correct = start.correct;
      batch = start.batch;
      if (start.batch > 0) {
        const loader = o.trainLoader as unknown as ResumableLoader;
        batches = loader.batches(epoch - 1, start.batch);
        loader.setEpoch(epoch);
      }
    }
    model.train();
    meter.start();
    progress.startEpoch(epoch, o.epochs, totalBatches);
    try {
      for (const { images, labels } of batches) {
        batch++;
        o.optimizer.zeroGrad();
        const logits = model.forward(images);
        const value = lossFn.forward(logits, labels);
        if (!Number.isFinite(value)) {
          const lr = typeof o.optimizer.lr === 'number' ? ` (lr = ${o.optimizer.lr})` : '';
          throw new NonFiniteLossError(
            `fit: the loss is ${value} at epoch ${epoch}, batch ${batch}${totalBatches ? `/${totalBatches}` : ''}: training diverged. ` +
              `Try a lower learning rate${lr}, and check the inputs for NaN or infinite values.`,
          );
        }
        // Nothing needs the gradient with respect to the images; skipping it saves a third of a LeNet step.
        model.backward(lossFn.backward(), { inputGrad: false });
        o.optimizer.step();
        lossSum += value * labels.length;
        count += labels.length;
        const predicted = argmaxRows(logits);
        for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
        meter.add(labels.length);
        progress.update({
          batch,
          loss: lossSum / count,
          accuracy: correct / count,
          imagesPerSecond: meter.imagesPerSecond,
          seconds: meter.seconds,
        });
        if (every !== undefined && batch % every === 0 && batch !== totalBatches)
          await o.checkpoint!.save(position(epoch, batch, lossSum, count, correct));
        await yieldToEventLoop();
        if (o.signal?.aborted) break;
      }
    } finally {
      progress.endEpoch();
    }
    if (o.signal?.aborted) return stop(position(epoch, batch, lossSum, count, correct));

    const trainSeconds = meter.seconds;
    let test: { loss: number; accuracy: number } | undefined;
    if (o.testLoader !== undefined) {
      try {
        test = await evaluate(model, o.testLoader, { lossFn, signal: o.signal });
      } catch (err) {
        if (o.signal?.aborted) return stop(position(epoch, batch, lossSum, count, correct));
        throw err;
      }
    }
    const record: EpochRecord = {
      epoch,
      trainLoss: count === 0 ? NaN : lossSum / count,
      trainAccuracy: count === 0 ? NaN : correct / count,
      ...(test && { testLoss: test.loss, testAccuracy: test.accuracy }),
      seconds: (performance.now() - started) / 1000,
      imagesPerSecond: trainSeconds > 0 ? (count - resumedCount) / trainSeconds : 0,
    };
    history.epochs.push(record);
    if (o.historyPath !== undefined) writeJsonAtomic(o.historyPath, history);
    await o.onEpochEnd?.(record, history);
    if (o.checkpoint !== undefined) await o.checkpoint.save(position(epoch + 1, 0));
    if (o.signal?.aborted && epoch < o.epochs) {
      history.stopped = true;
      history.stoppedAt = { epoch: epoch + 1, batch: 0 };
      if (o.historyPath !== undefined) writeJsonAtomic(o.historyPath, history);
      return history;
    }
  }
  return history;
}

function checkFitOptions(model: Module, options: FitOptions): FitOptions {
  if (!(model instanceof Module)) throw new TypeError(`fit: model must be a Module, got ${describe(model)}`);
  if (options === null || typeof options !== 'object')
    throw new TypeError(`fit: options must be an object, got ${describe(options)}`);
  const known = [
    'trainLoader',
    'testLoader',
    'optimizer',
    'lossFn',
    'epochs',
    'progress',
    'progressStream',
    'historyPath',
    'signal',
    'onEpochEnd',
    'resumeFrom',
    'checkpoint',
  ];
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new TypeError(`fit: unknown option "${k}" (known: ${known.join(', ')})`);
  }
  checkBatchSource('fit: trainLoader', options.trainLoader);
  if (options.testLoader !== undefined) checkBatchSource('fit: testLoader', options.testLoader);
  const opt = options.optimizer;
  if (opt === null || typeof opt !== 'object' || typeof opt.step !== 'function' || typeof opt.zeroGrad !== 'function') {
    throw new TypeError(`fit: optimizer must have step() and zeroGrad() (e.g. an Adam), got ${describe(opt)}`);
  }
  const lossFn = options.lossFn;
  if (
    lossFn !== undefined &&
    (lossFn === null || typeof lossFn.forward !== 'function' || typeof lossFn.backward !== 'function')
  ) {
    throw new TypeError(
      `fit: lossFn must have forward() and backward() (e.g. a CrossEntropyLoss), got ${describe(lossFn)}`,
    );
  }
  checkInt('fit: epochs', options.epochs, 1);
  if (options.historyPath !== undefined && (typeof options.historyPath !== 'string' || options.historyPath === '')) {
    throw new TypeError(`fit: historyPath must be a non-empty string, got ${describe(options.historyPath)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`fit: signal must be an AbortSignal, got ${describe(options.signal)}`);
  }
  if (options.onEpochEnd !== undefined && typeof options.onEpochEnd !== 'function') {
    throw new TypeError(`fit: onEpochEnd must be a function, got ${describe(options.onEpochEnd)}`);
  }
  checkResume(options);
  const ck = options.checkpoint;
  if (ck !== undefined) {
    if (ck === null || typeof ck !== 'object' || typeof ck.save !== 'function') {
      throw new TypeError(`fit: checkpoint must be { every?, save(position) }, got ${describe(ck)}`);
    }
    if (ck.every !== undefined) checkInt('fit: checkpoint.every', ck.every, 1);
  }
  const p = options.progress;
  if (p !== undefined && typeof p === 'object' && (p === null || typeof p.update !== 'function')) {
    throw new TypeError(`fit: progress must be 'auto', 'bar', 'log', 'none' or a ProgressReporter, got ${describe(p)}`);
  }
  // A bad mode string is reported by createProgress before any training starts.
  if (typeof p !== 'object') createProgress({ mode: p, stream: { write: () => true } });
  return options;
}

function checkResume(options: FitOptions): void {
  const r = options.resumeFrom;
  if (r === undefined) return;
  if (r === null || typeof r !== 'object')
    throw new TypeError(`fit: resumeFrom must be a FitPosition, got ${describe(r)}`);
  const loader = options.trainLoader as unknown as Partial<ResumableLoader>;
  if (typeof loader.setEpoch !== 'function' || typeof loader.batches !== 'function') {
    throw new TypeError('fit: resumeFrom needs a trainLoader with setEpoch() and batches(epoch, start) (a DataLoader)');
  }
  intIn('fit: resumeFrom.epoch', r.epoch, 1, options.epochs + 1);
  const total = typeof options.trainLoader.length === 'number' ? options.trainLoader.length : Number.MAX_SAFE_INTEGER;
  intIn('fit: resumeFrom.batch', r.batch, 0, r.epoch > options.epochs ? 0 : total);
  if (!Array.isArray(r.epochs) || r.epochs.length !== r.epoch - 1) {
    throw new RangeError(
      `fit: resumeFrom.epochs must hold the ${r.epoch - 1} finished epochs, got ${Array.isArray(r.epochs) ? r.epochs.length : describe(r.epochs)}`,
    );
  }
  checkInt('fit: resumeFrom.count', r.count, 0);
  intIn('fit: resumeFrom.correct', r.correct, 0, r.count);
  if (typeof r.lossSum !== 'number' || !Number.isFinite(r.lossSum))
    throw new TypeError(`fit: resumeFrom.lossSum must be a finite number, got ${describe(r.lossSum)}`);
}

function intIn(what: string, value: unknown, min: number, max: number): number {
  checkInt(what, value, min);
  if ((value as number) > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${value}`);
  return value as number;
}
