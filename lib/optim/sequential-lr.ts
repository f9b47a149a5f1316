// SPDX-License-Identifier: MIT
// SequentialLR: runs schedules one after another at given milestones (e.g. LinearLR warm-up, then cosine).
import { checkInt, checkOptions, describe } from '../check';
import { LRScheduler } from './lr-scheduler';
import { Optimizer } from './optimizer';

export interface SequentialLROptions {
  /** Schedules built on the same optimizer, in the order they run. */
  schedulers: readonly LRScheduler[];
  /** Epochs where the next schedule takes over: one fewer than schedulers, increasing. */
  milestones: readonly number[];
}

/**
 * Chains schedules built on the same optimizer, as torch.optim.lr_scheduler.SequentialLR:
 * schedulers[i] runs from milestones[i - 1] on, restarted at its own epoch 0 there. Only this
 * wrapper's step() should be called; the children's getLastLr() are not updated.
 *
 * @example
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 3 });
 * const cosine = new CosineAnnealingLR(opt, { tMax: 27 });
 * const sched = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [3] });
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];

  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    super('SequentialLR', optimizer);
    const { schedulers, milestones } = checkOptions('SequentialLR', options, ['schedulers', 'milestones']);
    if (!Array.isArray(schedulers))
      throw new TypeError(`SequentialLR: schedulers must be a non-empty array, got ${describe(schedulers)}`);
    if (schedulers.length === 0) throw new RangeError('SequentialLR: schedulers must be a non-empty array, got []');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler))
        throw new TypeError(`SequentialLR: schedulers[${i}] must be an LRScheduler, got ${describe(s)}`);
      if (s.optimizer !== optimizer)
        throw new RangeError(`SequentialLR: schedulers[${i}] belongs to another optimizer`);
    });
    if (!Array.isArray(milestones))
      throw new TypeError(`SequentialLR: milestones must be an array of epochs, got ${describe(milestones)}`);
    if (milestones.length !== schedulers.length - 1) {
      throw new RangeError(
        `SequentialLR: milestones must hold ${schedulers.length - 1} epochs (one fewer than schedulers), got ${milestones.length}`,
      );
    }
    milestones.forEach((m, i) => {
      checkInt(`SequentialLR: milestones[${i}]`, m, i === 0 ? 1 : milestones[i - 1] + 1);
    });
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.start();
  }

  /** The child schedule running at `epoch`, at its own epoch (epoch minus the milestone where it started). */
  groupLrAt(epoch: number, group: number): number {
    let i = 0;
    while (i < this.milestones.length && epoch >= this.milestones[i]) i++;
    return this.schedulers[i].groupLrAt(i === 0 ? epoch : epoch - this.milestones[i - 1], group);
  }
}
