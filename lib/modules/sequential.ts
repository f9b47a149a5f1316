// SPDX-License-Identifier: MIT
// Sequential: runs child modules in order; backward runs them in reverse.
import { describe } from '../errors';
import { Tensor } from '../tensor/tensor';
import { Module } from './module';

/**
 * A chain of modules, as torch.nn.Sequential. Children are named "0", "1", ... when given as a
 * list, or by key when given as an object (state-dict names follow: "0.weight" or "conv1.weight").
 *
 * @example
 * const net = new Sequential(new Linear({ inFeatures: 4, outFeatures: 8 }), new ReLU());
 * const named = new Sequential({ fc: new Linear({ inFeatures: 4, outFeatures: 2 }) });
 */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const entries: [string, unknown][] =
      modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object'
        ? Object.entries(modules[0] as Record<string, Module>)
        : modules.map((m, i) => [String(i), m]);
    for (const [name, m] of entries) {
      if (!(m instanceof Module)) throw new TypeError(`Sequential: entry '${name}' must be a Module, got ${describe(m)}`);
      this.layers.push(this.registerModule(name, m));
    }
  }

  get length(): number {
    return this.layers.length;
  }

  /** The i-th module. */
  at(i: number): Module {
    const m = this.layers[i];
    if (!m) throw new RangeError(`Sequential.at: index ${i} is outside 0..${this.layers.length - 1}`);
    return m;
  }

  outputShape(inputShape: readonly number[]): number[] {
    let shape = [...inputShape];
    for (const m of this.layers) shape = m.outputShape(shape);
    return shape;
  }

  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this.layers) x = m.forward(x);
    return x;
  }

  backward(doutput: Tensor): Tensor {
    let g = doutput;
    for (let i = this.layers.length - 1; i >= 0; i--) g = this.layers[i].backward(g);
    return g;
  }
}
