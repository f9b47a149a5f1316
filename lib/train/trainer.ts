// SPDX-License-Identifier: MIT
// fit(): the training run (epochs, evaluation, history file, hooks, stop); one epoch's batches are in
// epoch-runner.ts, the resume start in resume.ts, the options check in fit-options.ts.
import { writeJsonAtomic } from '../io/atomic-file';
import { CrossEntropyLoss } from '../loss/cross-entropy';
import type { Module } from '../modules/module';
import { runEpoch, type EpochRun } from './epoch-runner';
import { evaluate } from './evaluate';
import { checkFitOptions } from './fit-options';
import { fitProgress } from './fit-progress';
import type { EpochRecord, FitOptions, FitPosition, History } from './fit-types';
import { ResumeState } from './resume';

export type {
  EpochRecord,
  FitCheckpointHook,
  FitOptimizer,
  FitOptions,
  FitPosition,
  FitProgressReporter,
  History,
} from './fit-types';

/**
 * Trains `model` for `epochs` passes over `trainLoader`. Per batch: zeroGrad, forward, loss,
 * backward (without the input gradient), step. It yields to the event loop between batches, so it never blocks a server for
 * longer than one batch and an AbortSignal can stop it. After each epoch it evaluates on `testLoader`
 * (when given), prints the epoch's line (train and test loss and accuracy) with the progress output,
 * writes the history file, calls onEpochEnd and the checkpoint hook. The model is left in training mode.
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
  const resume = new ResumeState(o.trainLoader, o.resumeFrom);
  const history: History = { epochs: resume.finishedEpochs(), stopped: false };
  const lossFn = o.lossFn ?? new CrossEntropyLoss();
  const progress = fitProgress(o);
  const position = (epoch: number, batch: number, t = { lossSum: 0, count: 0, correct: 0 }): FitPosition => ({
    epoch,
    batch,
    epochs: [...history.epochs],
    ...t,
  });
  const run: EpochRun = {
    model,
    optimizer: o.optimizer,
    lossFn,
    progress,
    epochs: o.epochs,
    totalBatches: typeof o.trainLoader.length === 'number' ? o.trainLoader.length : undefined,
    signal: o.signal,
    checkpoint: o.checkpoint,
    position,
  };
  const writeHistory = (): void => {
    if (o.historyPath !== undefined) writeJsonAtomic(o.historyPath, history);
  };
  // The one way a run stops early: mark the history, write it, save the position.
  const stop = async (at: FitPosition): Promise<History> => {
    history.stopped = true;
    history.stoppedAt = { epoch: at.epoch, batch: at.batch };
    writeHistory();
    await o.checkpoint?.save(at);
    return history;
  };
  if (o.signal?.aborted) return stop(resume.position() ?? position(1, 0));

  for (let epoch = resume.firstEpoch; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    const trained = await runEpoch(run, epoch, resume.epochStart(epoch));
    if (trained.aborted) return stop(position(epoch, trained.batch, trained));
    let test: { loss: number; accuracy: number } | undefined;
    if (o.testLoader !== undefined) {
      progress.startEvaluation?.(typeof o.testLoader.length === 'number' ? o.testLoader.length : undefined);
      try {
        const onBatch = (n: number) => progress.updateEvaluation?.(n);
        test = await evaluate(model, o.testLoader, { lossFn, signal: o.signal, onBatch });
      } catch (err) {
        if (o.signal?.aborted) return stop(position(epoch, trained.batch, trained));
        throw err;
      } finally {
        progress.endEvaluation?.();
      }
    }
    const { count } = trained;
    const record: EpochRecord = {
      epoch,
      trainLoss: count === 0 ? NaN : trained.lossSum / count,
      trainAccuracy: count === 0 ? NaN : trained.correct / count,
      ...(test && { testLoss: test.loss, testAccuracy: test.accuracy }),
      seconds: (performance.now() - started) / 1000,
      imagesPerSecond: trained.imagesPerSecond,
    };
    history.epochs.push(record);
    progress.epochSummary?.(record, o.epochs);
    writeHistory();
    await o.onEpochEnd?.(record, history);
    if (o.signal?.aborted && epoch < o.epochs) return stop(position(epoch + 1, 0));
    await o.checkpoint?.save(position(epoch + 1, 0));
  }
  return history;
}
