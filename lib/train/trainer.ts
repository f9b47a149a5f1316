// SPDX-License-Identifier: MIT
// fit(): the training loop (batches, NaN guard, per-epoch evaluation, history file, abort); metrics and output live elsewhere.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { checkInt, describe, NonFiniteLossError } from '../errors';
import { CrossEntropyLoss } from '../loss/cross-entropy';
import { Module } from '../modules/module';
import { checkBatchSource, evaluate, yieldToEventLoop, type BatchSource, type LossFunction } from './evaluate';
import { argmaxRows, RunningMean, ThroughputMeter } from './metrics';
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
  const history: History = { epochs: [], stopped: false };
  const lossFn = o.lossFn ?? new CrossEntropyLoss();
  const progress = typeof o.progress === 'object' ? o.progress : createProgress({ mode: o.progress, stream: o.progressStream });
  const totalBatches = typeof o.trainLoader.length === 'number' ? o.trainLoader.length : undefined;
  const stop = (epoch: number, batch: number): History => {
    history.stopped = true;
    history.stoppedAt = { epoch, batch };
    if (o.historyPath !== undefined) writeJsonAtomic(o.historyPath, history);
    return history;
  };
  if (o.signal?.aborted) return stop(1, 0);

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    const loss = new RunningMean();
    const meter = new ThroughputMeter();
    let correct = 0;
    let batch = 0;
    model.train();
    meter.start();
    progress.startEpoch(epoch, o.epochs, totalBatches);
    try {
      for (const { images, labels } of o.trainLoader) {
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
        loss.add(value, labels.length);
        const predicted = argmaxRows(logits);
        for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
        meter.add(labels.length);
        progress.update({ batch, loss: loss.mean, accuracy: correct / loss.count, imagesPerSecond: meter.imagesPerSecond, seconds: meter.seconds });
        await yieldToEventLoop();
        if (o.signal?.aborted) break;
      }
    } finally {
      progress.endEpoch();
    }
    if (o.signal?.aborted) return stop(epoch, batch);

    const trainSeconds = meter.seconds;
    let test: { loss: number; accuracy: number } | undefined;
    if (o.testLoader !== undefined) {
      try {
        test = await evaluate(model, o.testLoader, { lossFn, signal: o.signal });
      } catch (err) {
        if (o.signal?.aborted) return stop(epoch, batch);
        throw err;
      }
    }
    const record: EpochRecord = {
      epoch,
      trainLoss: loss.mean,
      trainAccuracy: loss.count === 0 ? NaN : correct / loss.count,
      ...(test && { testLoss: test.loss, testAccuracy: test.accuracy }),
      seconds: (performance.now() - started) / 1000,
      imagesPerSecond: trainSeconds > 0 ? loss.count / trainSeconds : 0,
    };
    history.epochs.push(record);
    if (o.historyPath !== undefined) writeJsonAtomic(o.historyPath, history);
    await o.onEpochEnd?.(record, history);
    if (o.signal?.aborted && epoch < o.epochs) return stop(epoch + 1, 0);
  }
  return history;
}

function checkFitOptions(model: Module, options: FitOptions): FitOptions {
  if (!(model instanceof Module)) throw new TypeError(`fit: model must be a Module, got ${describe(model)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`fit: options must be an object, got ${describe(options)}`);
  const known = ['trainLoader', 'testLoader', 'optimizer', 'lossFn', 'epochs', 'progress', 'progressStream', 'historyPath', 'signal', 'onEpochEnd'];
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
  if (lossFn !== undefined && (lossFn === null || typeof lossFn.forward !== 'function' || typeof lossFn.backward !== 'function')) {
    throw new TypeError(`fit: lossFn must have forward() and backward() (e.g. a CrossEntropyLoss), got ${describe(lossFn)}`);
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
  const p = options.progress;
  if (p !== undefined && typeof p === 'object' && (p === null || typeof p.update !== 'function')) {
    throw new TypeError(`fit: progress must be 'auto', 'bar', 'log', 'none' or a ProgressReporter, got ${describe(p)}`);
  }
  // A bad mode string is reported by createProgress before any training starts.
  if (typeof p !== 'object') createProgress({ mode: p, stream: { write: () => true } });
  return options;
}

/**
 * Writes `value` as pretty JSON to `file` via a temporary file in the same folder and a rename, so
 * a reader never sees half a file. Non-finite numbers become null (JSON has no NaN).
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx' });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
