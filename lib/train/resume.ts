// SPDX-License-Identifier: MIT
// ResumeState: where fit() starts (epoch 1, or a saved FitPosition) and what each epoch starts from; no training here.
import type { Batch } from '../data/dataset';
import type { BatchSource } from './evaluate';
import type { EpochRecord, FitPosition, ResumableLoader } from './fit-types';

/** Running totals of one epoch's training batches: sum of loss x batch size, samples, correct predictions. */
export interface EpochTotals {
  lossSum: number;
  count: number;
  correct: number;
}

/** What an epoch starts from: its batches, how many already ran, and the totals so far. */
export interface EpochStart extends EpochTotals {
  batches: Iterable<Batch>;
  /** Batches of this epoch already run (0 unless resuming mid-epoch). */
  batch: number;
}

/**
 * The start of a run. Without a position: epoch 1, no finished epochs, each epoch the loader's next
 * pass. With one (checkpoint.ts restores it): the finished epochs, and the first epoch continues at
 * the saved batch with the saved totals; fit epoch k runs loader epoch k - 1, so the loader's counter
 * is moved there.
 */
export class ResumeState {
  /** 1-based epoch fit() runs first. */
  readonly firstEpoch: number;

  constructor(
    private readonly loader: BatchSource,
    private readonly from?: FitPosition,
  ) {
    this.firstEpoch = from?.epoch ?? 1;
    if (from) (loader as unknown as ResumableLoader).setEpoch(from.epoch - 1);
  }

  /** The epochs finished before this run (a copy). */
  finishedEpochs(): EpochRecord[] {
    return this.from ? [...this.from.epochs] : [];
  }

  /** The position at the start, for a stop before any batch ran. */
  position(): FitPosition | undefined {
    return this.from ? { ...this.from, epochs: this.finishedEpochs() } : undefined;
  }

  /** What `epoch` starts from: a fresh pass over the loader, or the rest of the saved epoch. */
  epochStart(epoch: number): EpochStart {
    const from = this.from;
    if (!from || epoch !== this.firstEpoch) return { batches: this.loader, batch: 0, lossSum: 0, count: 0, correct: 0 };
    const { batch, lossSum, count, correct } = from;
    if (batch === 0) return { batches: this.loader, batch, lossSum, count, correct };
    const loader = this.loader as unknown as ResumableLoader;
    const batches = loader.batches(epoch - 1, batch);
    loader.setEpoch(epoch); // the next pass is the next epoch's
    return { batches, batch, lossSum, count, correct };
  }
}
