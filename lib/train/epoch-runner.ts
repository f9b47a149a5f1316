// SPDX-License-Identifier: MIT
// runEpoch(): one epoch of training batches (step, NaN guard, progress, mid-epoch checkpoints, abort); fit() in trainer.ts runs the epochs.
import { NonFiniteLossError } from '../errors';
import type { Module } from '../modules/module';
import type { LossFunction } from './evaluate';
import { yieldToEventLoop } from './evaluate';
import type { FitCheckpointHook, FitOptimizer, FitPosition } from './fit-types';
import { argmaxRows, ThroughputMeter } from './metrics';
import type { ProgressReporter } from './progress';
import type { EpochStart, EpochTotals } from './resume';

/** What every epoch of a run shares. */
export interface EpochRun {
  model: Module;
  optimizer: FitOptimizer;
  lossFn: LossFunction;
  progress: ProgressReporter;
  /** Epochs of the whole run, for progress output. */
  epochs: number;
  /** Batches per epoch when the loader knows (progress, and no mid-epoch save at the last batch). */
  totalBatches: number | undefined;
  signal?: AbortSignal;
  checkpoint?: FitCheckpointHook;
  /** The position to save mid-epoch (finished epochs included). */
  position(epoch: number, batch: number, totals: EpochTotals): FitPosition;
}

/** The end of an epoch's training batches (evaluation not included). */
export interface EpochResult extends EpochTotals {
  /** Batches of the epoch run so far, resumed ones included. */
  batch: number;
  /** True when the signal stopped the epoch early. */
  aborted: boolean;
  /** Training images per second in this run (resumed batches excluded). */
  imagesPerSecond: number;
}

/**
 * Trains one epoch in training mode. Per batch: zeroGrad, forward, loss, backward (without the input
 * gradient), step; then progress, a checkpoint every `checkpoint.every` batches, and a yield to the
 * event loop, after which an aborted signal ends the epoch.
 *
 * @throws NonFiniteLossError when a batch's loss is NaN or infinite.
 */
export async function runEpoch(run: EpochRun, epoch: number, start: EpochStart): Promise<EpochResult> {
  const { model, optimizer, lossFn, progress, totalBatches } = run;
  const every = run.checkpoint?.every;
  const t: EpochTotals = { lossSum: start.lossSum, count: start.count, correct: start.correct };
  let batch = start.batch;
  const meter = new ThroughputMeter();
  model.train();
  meter.start();
  progress.startEpoch(epoch, run.epochs, totalBatches);
  try {
    for (const { images, labels } of start.batches) {
      batch++;
      optimizer.zeroGrad();
      const logits = model.forward(images);
      const value = lossFn.forward(logits, labels);
      if (!Number.isFinite(value)) {
        const lr = typeof optimizer.lr === 'number' ? ` (lr = ${optimizer.lr})` : '';
        throw new NonFiniteLossError(
          `fit: the loss is ${value} at epoch ${epoch}, batch ${batch}${totalBatches ? `/${totalBatches}` : ''}: training diverged. ` +
            `Try a lower learning rate${lr}, and check the inputs for NaN or infinite values.`,
        );
      }
      // Nothing needs the gradient with respect to the images; skipping it saves a third of a LeNet step.
      model.backward(lossFn.backward(), { inputGrad: false });
      optimizer.step();
      t.lossSum += value * labels.length;
      t.count += labels.length;
      const predicted = argmaxRows(logits);
      for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) t.correct++;
      meter.add(labels.length);
      progress.update({
        batch,
        loss: t.lossSum / t.count,
        accuracy: t.correct / t.count,
        imagesPerSecond: meter.imagesPerSecond,
        seconds: meter.seconds,
      });
      if (every !== undefined && batch % every === 0 && batch !== totalBatches)
        await run.checkpoint!.save(run.position(epoch, batch, t));
      await yieldToEventLoop();
      if (run.signal?.aborted) break;
    }
  } finally {
    progress.endEpoch();
  }
  const seconds = meter.seconds;
  return {
    ...t,
    batch,
    aborted: run.signal?.aborted === true,
    imagesPerSecond: seconds > 0 ? (t.count - start.count) / seconds : 0,
  };
}
