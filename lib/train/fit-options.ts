// SPDX-License-Identifier: MIT
// checkFitOptions(): validates fit()'s model and options up front, before any batch runs (the loop is in trainer.ts).
import { checkBool, checkFunction, checkInstance, checkInt, checkOptions, checkString, describe } from '../check';
import { Module } from '../modules/module';
import { checkBatchSource, checkLossFunction } from './evaluate';
import type { FitOptions, ResumableLoader } from './fit-types';
import { createProgress } from './progress';

const KNOWN = [
  'trainLoader',
  'testLoader',
  'optimizer',
  'lossFn',
  'epochs',
  'progress',
  'progressStream',
  'epochSummary',
  'historyPath',
  'signal',
  'onEpochEnd',
  'resumeFrom',
  'checkpoint',
];

/** Throws a TypeError or RangeError naming the first bad option (check.ts's rule); returns the options. */
export function checkFitOptions(model: Module, options: FitOptions): FitOptions {
  checkInstance('fit: model', model, Module);
  if (options === undefined || options === null)
    throw new TypeError(`fit: options must be an object, got ${describe(options)}`);
  const o = checkOptions('fit', options, KNOWN);
  checkBatchSource('fit: trainLoader', o.trainLoader);
  if (o.testLoader !== undefined) checkBatchSource('fit: testLoader', o.testLoader);
  const opt = o.optimizer;
  if (opt === null || typeof opt !== 'object' || typeof opt.step !== 'function' || typeof opt.zeroGrad !== 'function') {
    throw new TypeError(`fit: optimizer must have step() and zeroGrad() (e.g. an Adam), got ${describe(opt)}`);
  }
  if (o.lossFn !== undefined) checkLossFunction('fit: lossFn', o.lossFn);
  checkInt('fit: epochs', o.epochs, 1);
  if (o.historyPath !== undefined) checkString('fit: historyPath', o.historyPath, true);
  if (o.signal !== undefined) checkInstance('fit: signal', o.signal, AbortSignal, 'an AbortSignal');
  if (o.onEpochEnd !== undefined) checkFunction('fit: onEpochEnd', o.onEpochEnd);
  if (o.epochSummary !== undefined) checkBool('fit: epochSummary', o.epochSummary);
  checkResume(o);
  const ck = o.checkpoint;
  if (ck !== undefined) {
    if (ck === null || typeof ck !== 'object' || typeof ck.save !== 'function') {
      throw new TypeError(`fit: checkpoint must be { every?, save(position) }, got ${describe(ck)}`);
    }
    if (ck.every !== undefined) checkInt('fit: checkpoint.every', ck.every, 1);
  }
  const p = o.progress;
  if (p !== undefined && typeof p === 'object' && (p === null || typeof p.update !== 'function')) {
    throw new TypeError(`fit: progress must be 'auto', 'bar', 'log', 'none' or a ProgressReporter, got ${describe(p)}`);
  }
  // A bad mode string is reported by createProgress before any training starts.
  if (typeof p !== 'object') createProgress({ mode: p, stream: { write: () => true } });
  return o;
}

/** resumeFrom must fit the run: a position inside it, with the finished epochs and consistent totals. */
function checkResume(options: FitOptions): void {
  const r = options.resumeFrom;
  if (r === undefined) return;
  if (r === null || typeof r !== 'object')
    throw new TypeError(`fit: resumeFrom must be a FitPosition, got ${describe(r)}`);
  const loader = options.trainLoader as unknown as Partial<ResumableLoader>;
  if (typeof loader.setEpoch !== 'function' || typeof loader.batches !== 'function') {
    throw new TypeError('fit: resumeFrom needs a trainLoader with setEpoch() and batches(epoch, start) (a DataLoader)');
  }
  checkInt('fit: resumeFrom.epoch', r.epoch, 1, options.epochs + 1);
  const total = typeof options.trainLoader.length === 'number' ? options.trainLoader.length : Number.MAX_SAFE_INTEGER;
  checkInt('fit: resumeFrom.batch', r.batch, 0, r.epoch > options.epochs ? 0 : total);
  if (!Array.isArray(r.epochs))
    throw new TypeError(`fit: resumeFrom.epochs must be an array of epoch records, got ${describe(r.epochs)}`);
  if (r.epochs.length !== r.epoch - 1) {
    throw new RangeError(`fit: resumeFrom.epochs must hold the ${r.epoch - 1} finished epochs, got ${r.epochs.length}`);
  }
  checkInt('fit: resumeFrom.count', r.count, 0);
  checkInt('fit: resumeFrom.correct', r.correct, 0, r.count);
  if (typeof r.lossSum !== 'number')
    throw new TypeError(`fit: resumeFrom.lossSum must be a finite number, got ${describe(r.lossSum)}`);
  if (!Number.isFinite(r.lossSum))
    throw new RangeError(`fit: resumeFrom.lossSum must be a finite number, got ${r.lossSum}`);
}
