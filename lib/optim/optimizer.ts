// SPDX-License-Identifier: MIT
// Optimizer: the base class holding the parameter list and the learning rate.
import { checkInstance, checkNumber, describe } from '../check';
import { Parameter } from '../modules/parameter';

/** Base class of optimizers: owns the parameter list and `lr`; subclasses implement step(). */
export abstract class Optimizer {
  readonly params: readonly Parameter[];
  /** Learning rate; schedules may change it between steps. */
  lr: number;

  constructor(params: Iterable<Parameter>, lr: number, name: string) {
    if (params === null || typeof (params as Partial<Iterable<Parameter>>)?.[Symbol.iterator] !== 'function')
      throw new TypeError(
        `${name}: params must be an iterable of Parameters (model.parameters()), got ${describe(params)}`,
      );
    const list = [...params];
    list.forEach((p, i) => checkInstance(`${name}: params[${i}]`, p, Parameter));
    if (list.length === 0) throw new RangeError(`${name}: params is empty`);
    if (new Set(list).size !== list.length) throw new RangeError(`${name}: params holds the same Parameter twice`);
    this.params = list;
    this.lr = checkNumber(`${name}: lr`, lr, { min: 0 });
  }

  abstract step(): void;

  /** Sets every parameter's gradient to zero. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }
}
