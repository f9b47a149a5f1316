// SPDX-License-Identifier: MIT
// Learning-rate schedules as PyTorch's (closed forms): the LRScheduler base, StepLR, CosineAnnealingLR, LinearLR,
// ExponentialLR and MultiStepLR.
import { checkArray, checkInstance, checkInt, checkNumber, checkOptions } from '../check';
import { Optimizer } from './optimizer';

/** PyTorch's param_group['initial_lr'] per group: set by the first scheduler built on an optimizer, shared by later ones. */
const initialLrs = new WeakMap<Optimizer, readonly number[]>();

/**
 * Base of the schedules. Like torch.optim.lr_scheduler, building one sets every parameter group's `lr` to its epoch-0
 * value and each step() moves to the next epoch. Values come from closed forms of each group's base learning rate
 * (`groupLrAt`), which equal PyTorch's recursive updates up to float64 rounding; an `lr` changed by hand is overwritten
 * at the next step().
 *
 * A group's base learning rate is its lr when the optimizer's first scheduler was built (PyTorch's `initial_lr`), so
 * schedules chained on one optimizer share them.
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The learning rate each parameter group's schedule scales (PyTorch's base_lrs). */
  readonly baseLrs: readonly number[];
  private epoch = 0;
  private lastLrs: readonly number[] = [];

  /** `initialLr` replaces every group's initial lr (OneCycleLR's maxLr / divFactor). */
  protected constructor(name: string, optimizer: Optimizer, initialLr?: number) {
    this.optimizer = checkInstance(`${name}: optimizer`, optimizer, Optimizer, 'an Optimizer');
    const groups = optimizer.paramGroups;
    this.baseLrs =
      initialLr !== undefined ? groups.map(() => initialLr) : (initialLrs.get(optimizer) ?? groups.map((g) => g.lr));
    initialLrs.set(optimizer, this.baseLrs);
  }

  /** The first group's base learning rate (the only one without parameter groups). */
  get baseLr(): number {
    return this.baseLrs[0];
  }

  /** The learning rate of parameter group `group` at `epoch` (0 is the value set at construction); pure. */
  abstract groupLrAt(epoch: number, group: number): number;

  /** The first group's learning rate at `epoch` (the only one without parameter groups); pure, it changes nothing. */
  lrAt(epoch: number): number {
    return this.groupLrAt(epoch, 0);
  }

  /** Every group's learning rate at `epoch`; pure. */
  lrsAt(epoch: number): number[] {
    return this.baseLrs.map((_, g) => this.groupLrAt(epoch, g));
  }

  /** Advances one epoch (one batch for OneCycleLR) and sets every group's lr. */
  step(): void {
    this.moveTo(this.epoch + 1);
  }

  /** The first group's learning rate set by the last step() (or the constructor); getLastLrs() has every group's. */
  getLastLr(): number {
    return this.lastLrs[0];
  }

  /** Every group's learning rate set by the last step() (or the constructor): PyTorch's get_last_lr(). */
  getLastLrs(): readonly number[] {
    return this.lastLrs;
  }

  /** Number of step() calls so far (PyTorch's last_epoch). */
  get lastEpoch(): number {
    return this.epoch;
  }

  /** { lastEpoch }, for checkpoints. */
  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.epoch };
  }

  /** Resumes at a saved epoch and sets every group's lr to its value. */
  loadStateDict(state: { lastEpoch: number }): void {
    this.moveTo(checkInt(`${this.constructor.name}.loadStateDict: lastEpoch`, state?.lastEpoch, 0));
  }

  /** Subclasses call this at the end of their constructor: sets the epoch-0 learning rates. */
  protected start(): void {
    this.moveTo(0);
  }

  private moveTo(epoch: number): void {
    const lrs = this.lrsAt(epoch); // may throw (OneCycleLR past its end); then nothing changes
    this.epoch = epoch;
    this.lastLrs = Object.freeze(lrs);
    this.optimizer.paramGroups.forEach((group, g) => (group.lr = lrs[g]));
  }
}

export interface StepLROptions {
  /** Epochs between decays. Required. */
  stepSize: number;
  /** Factor per decay. Default 0.1. */
  gamma?: number;
}

/**
 * lr = baseLr gamma^floor(epoch / stepSize), as torch.optim.lr_scheduler.StepLR.
 *
 * @example
 * const sched = new StepLR(opt, { stepSize: 30 }); // lr / 10 every 30 epochs
 * for (let e = 0; e < 90; e++) { trainOneEpoch(); sched.step(); }
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super('StepLR', optimizer);
    const o = checkOptions('StepLR', options, ['stepSize', 'gamma']);
    this.stepSize = checkInt('StepLR: stepSize', o.stepSize);
    this.gamma = checkNumber('StepLR: gamma', o.gamma ?? 0.1, { min: 0 });
    this.start();
  }

  groupLrAt(epoch: number, group: number): number {
    return this.baseLrs[group] * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export interface CosineAnnealingLROptions {
  /** Half-period in epochs: lr reaches etaMin at epoch tMax. Required. */
  tMax: number;
  /** Default 0. */
  etaMin?: number;
}

/**
 * lr = etaMin + (baseLr - etaMin) (1 + cos(pi epoch / tMax)) / 2, as
 * torch.optim.lr_scheduler.CosineAnnealingLR (no restarts; past tMax the cosine rises again, as in PyTorch).
 *
 * @example
 * const sched = new CosineAnnealingLR(opt, { tMax: 30 });
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    const o = checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    this.tMax = checkInt('CosineAnnealingLR: tMax', o.tMax);
    this.etaMin = checkNumber('CosineAnnealingLR: etaMin', o.etaMin ?? 0, { min: 0 });
    this.start();
  }

  groupLrAt(epoch: number, group: number): number {
    return this.etaMin + ((this.baseLrs[group] - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface LinearLROptions {
  /** Factor at epoch 0, in (0, 1]. Default 1/3. */
  startFactor?: number;
  /** Factor from epoch totalIters on, in [0, 1]. Default 1. */
  endFactor?: number;
  /** Epochs of the linear ramp. Default 5. */
  totalIters?: number;
}

/**
 * lr = baseLr (startFactor + (endFactor - startFactor) min(epoch, totalIters) / totalIters), as
 * torch.optim.lr_scheduler.LinearLR: a linear warm-up by default (a decay when endFactor < startFactor).
 * Chain it before another schedule with SequentialLR.
 *
 * @example
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 }); // 5 epochs from lr/10 to lr
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    const o = checkOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    this.startFactor = checkNumber('LinearLR: startFactor', o.startFactor ?? 1 / 3, { minExclusive: 0, max: 1 });
    this.endFactor = checkNumber('LinearLR: endFactor', o.endFactor ?? 1, { min: 0, max: 1 });
    this.totalIters = checkInt('LinearLR: totalIters', o.totalIters ?? 5);
    this.start();
  }

  groupLrAt(epoch: number, group: number): number {
    const t = Math.min(epoch, this.totalIters) / this.totalIters;
    return this.baseLrs[group] * (this.startFactor + (this.endFactor - this.startFactor) * t);
  }
}

export interface ExponentialLROptions {
  /** Factor per epoch. Required, as in PyTorch. */
  gamma: number;
}

/**
 * lr = baseLr gamma^epoch, as torch.optim.lr_scheduler.ExponentialLR.
 *
 * @example
 * const sched = new ExponentialLR(opt, { gamma: 0.95 }); // lr * 0.95 each epoch
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer);
    const o = checkOptions('ExponentialLR', options, ['gamma']);
    if (o.gamma === undefined || o.gamma === null)
      throw new TypeError('ExponentialLR: options.gamma is required, e.g. new ExponentialLR(opt, { gamma: 0.95 })');
    this.gamma = checkNumber('ExponentialLR: gamma', o.gamma, { min: 0 });
    this.start();
  }

  groupLrAt(epoch: number, group: number): number {
    return this.baseLrs[group] * this.gamma ** epoch;
  }
}

export interface MultiStepLROptions {
  /** Epochs at which the lr is multiplied by gamma (integers >= 0, any order; one listed twice decays twice). Required. */
  milestones: readonly number[];
  /** Factor per milestone. Default 0.1. */
  gamma?: number;
}

/**
 * lr = baseLr gamma^(number of milestones <= epoch), as torch.optim.lr_scheduler.MultiStepLR (whose milestones are a
 * Counter: a repeated milestone counts each time).
 *
 * @example
 * const sched = new MultiStepLR(opt, { milestones: [100, 150], gamma: 0.1 }); // the ResNet CIFAR schedule
 */
export class MultiStepLR extends LRScheduler {
  /** The milestones, sorted. */
  readonly milestones: readonly number[];
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    const o = checkOptions('MultiStepLR', options, ['milestones', 'gamma']);
    const list = checkArray('MultiStepLR: milestones', o.milestones);
    this.milestones = list.map((m, i) => checkInt(`MultiStepLR: milestones[${i}]`, m, 0)).sort((a, b) => a - b);
    this.gamma = checkNumber('MultiStepLR: gamma', o.gamma ?? 0.1, { min: 0 });
    this.start();
  }

  groupLrAt(epoch: number, group: number): number {
    let passed = 0;
    while (passed < this.milestones.length && this.milestones[passed] <= epoch) passed++;
    return this.baseLrs[group] * this.gamma ** passed;
  }
}
