// SPDX-License-Identifier: MIT
// OneCycleLR: torch.optim.lr_scheduler.OneCycleLR's learning-rate curve, stepped once per batch (no momentum cycling).
import { checkBool, checkInt, checkNumber, checkOneOf, checkOptions } from '../check';
import { LRScheduler } from './lr-scheduler';
import { Optimizer } from './optimizer';

export interface OneCycleLROptions {
  /** Peak learning rate. Required. */
  maxLr: number;
  /** Number of step() calls in the cycle. Required unless epochs and stepsPerEpoch are given. */
  totalSteps?: number;
  /** With stepsPerEpoch, gives totalSteps = epochs * stepsPerEpoch. */
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent rising to maxLr. Default 0.3. */
  pctStart?: number;
  /** Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** Initial lr = maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  /** Rise, fall back to the initial lr, then anneal to the final lr (fast.ai's variant). Default false. */
  threePhase?: boolean;
  /**
   * Momentum cycling is not supported: only false is accepted. (PyTorch's default true also cycles
   * SGD momentum or Adam beta1; its learning rates are the same either way.)
   */
  cycleMomentum?: false;
}

interface Phase {
  endStep: number;
  startLr: number;
  endLr: number;
}

/**
 * The one-cycle policy, as torch.optim.lr_scheduler.OneCycleLR: lr rises from maxLr / divFactor to
 * maxLr over pctStart of totalSteps, then anneals to maxLr / divFactor / finalDivFactor. Call
 * step() after every batch; stepping past totalSteps throws, as in PyTorch. The optimizer's own lr
 * is replaced. Only the learning rate is scheduled: there is no momentum cycling.
 *
 * @example
 * const sched = new OneCycleLR(opt, { maxLr: 0.01, epochs: 10, stepsPerEpoch: loader.length });
 * // after each batch: opt.step(); sched.step();
 */
export class OneCycleLR extends LRScheduler {
  readonly maxLr: number;
  readonly totalSteps: number;
  readonly annealStrategy: 'cos' | 'linear';
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    const o = checkOptions('OneCycleLR', options, [
      'maxLr',
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'divFactor',
      'finalDivFactor',
      'threePhase',
      'cycleMomentum',
    ]);
    const maxLr = checkNumber('OneCycleLR: maxLr', o.maxLr, { min: 0 });
    const divFactor = checkNumber('OneCycleLR: divFactor', o.divFactor ?? 25, { minExclusive: 0 });
    super('OneCycleLR', optimizer, maxLr / divFactor);
    this.maxLr = maxLr;
    this.totalSteps = totalStepsOf(o);
    const pct = checkNumber('OneCycleLR: pctStart', o.pctStart ?? 0.3, { min: 0, max: 1 });
    this.annealStrategy = checkOneOf('OneCycleLR: annealStrategy', o.annealStrategy ?? 'cos', [
      'cos',
      'linear',
    ] as const);
    const minLr = this.baseLr / checkNumber('OneCycleLR: finalDivFactor', o.finalDivFactor ?? 1e4, { minExclusive: 0 });
    if (checkBool('OneCycleLR: cycleMomentum', o.cycleMomentum ?? false)) {
      throw new RangeError(
        'OneCycleLR: cycleMomentum is not supported (only the learning rate is scheduled); pass false or leave it out',
      );
    }
    const threePhase = checkBool('OneCycleLR: threePhase', o.threePhase ?? false);
    const t = this.totalSteps;
    const init = this.baseLr;
    this.phases = threePhase
      ? [
          { endStep: pct * t - 1, startLr: init, endLr: maxLr },
          { endStep: 2 * pct * t - 2, startLr: maxLr, endLr: init },
          { endStep: t - 1, startLr: init, endLr: minLr },
        ]
      : [
          { endStep: pct * t - 1, startLr: init, endLr: maxLr },
          { endStep: t - 1, startLr: maxLr, endLr: minLr },
        ];
    this.start();
  }

  /** PyTorch's get_lr: the phase holding `step`, annealed from its start to its end lr (the same for every group). */
  groupLrAt(step: number): number {
    if (step > this.totalSteps)
      throw new RangeError(`OneCycleLR: tried to step ${step} times; totalSteps is ${this.totalSteps}`);
    let startStep = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const { endStep, startLr, endLr } = this.phases[i];
      if (step <= endStep || i === this.phases.length - 1) {
        if (endStep === startStep)
          throw new RangeError(
            `OneCycleLR: phase ${i} has no steps (pctStart * totalSteps = ${this.phases[0].endStep + 1}); change pctStart or totalSteps`,
          );
        const pct = (step - startStep) / (endStep - startStep);
        return this.annealStrategy === 'cos'
          ? endLr + ((startLr - endLr) / 2) * (Math.cos(Math.PI * pct) + 1)
          : (endLr - startLr) * pct + startLr;
      }
      startStep = endStep;
    }
    throw new Error('unreachable');
  }
}

function totalStepsOf(o: OneCycleLROptions): number {
  if (o.totalSteps !== undefined && o.totalSteps !== null) return checkInt('OneCycleLR: totalSteps', o.totalSteps);
  if (o.epochs === undefined || o.epochs === null || o.stepsPerEpoch === undefined || o.stepsPerEpoch === null) {
    throw new TypeError('OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
  }
  return checkInt('OneCycleLR: epochs', o.epochs) * checkInt('OneCycleLR: stepsPerEpoch', o.stepsPerEpoch);
}
