// SPDX-License-Identifier: MIT
// Sequential: runs child modules in order (fusing Conv2d + ReLU); backward runs them in reverse;
// predict() runs as one native program when every layer allows it.
import { describe, isOptionsObject } from '../check';
import { Tensor } from '../tensor/tensor';
import { Conv2d } from './conv2d';
import { BackwardContext, ForwardContext, hasFastBackward, hasFastForward, Module } from './module';
import { compileProgram, type CompiledProgram } from './program';
import { programKey, runProgram } from './program-run';
import { ReLU } from './relu';
import { fusesBatchNormRelu, fusesReluMaxPool, reluFusedInto } from './fuse-relu';

const REUSE: ForwardContext = Object.freeze({ reuse: true });

/**
 * A chain of modules, as torch.nn.Sequential. Children are named "0", "1", ... when given as a
 * list, or by key when given as an object (state-dict names follow: "0.weight" or "conv1.weight").
 *
 * Intermediate results live in buffers the children reuse from call to call, and a Conv2d
 * directly followed by a ReLU runs as one fused op; forward() and backward() still return new
 * tensors. A child with its own forward()/backward() (a user layer) runs them as written: it is
 * never fused or compiled, and nothing it returns is overwritten.
 *
 * @example
 * const net = new Sequential(new Linear({ inFeatures: 4, outFeatures: 8 }), new ReLU());
 * const named = new Sequential({ fc: new Linear({ inFeatures: 4, outFeatures: 2 }) });
 */
export class Sequential extends Module {
  private readonly layers: Module[] = [];
  private compiled: { key: string; program: CompiledProgram | null } | null = null;

  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const named = modules.length === 1 && !(modules[0] instanceof Module) && isOptionsObject(modules[0]);
    const entries: [string, unknown][] = named
      ? Object.entries(modules[0] as Record<string, Module>)
      : modules.map((m, i) => [String(i), m]);
    for (const [name, m] of entries) {
      if (!(m instanceof Module))
        throw new TypeError(`Sequential: entry '${name}' must be a Module, got ${describe(m)}`);
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

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    // predict() must not overwrite the buffers a pending backward() reads.
    const childCtx = ctx.keepState === false ? ctx : REUSE;
    let x = input;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const next = this.layers[i + 1];
      if (layer instanceof Conv2d && next?.constructor === ReLU && hasFastForward(layer)) {
        x = (next as ReLU).adoptOutput(layer.forwardWithRelu(x, childCtx), childCtx);
        i++;
      } else if (fusesBatchNormRelu(layer, next)) {
        x = (next as ReLU).adoptOutput(layer.forwardWithRelu(x, childCtx), childCtx);
        i++;
      } else {
        x = layer.forwardWith(x, childCtx);
      }
    }
    // The caller keeps the result: copy it out of the last child's reused buffer.
    return childCtx === REUSE && !ctx.reuse && this.layers.length > 0 ? x.clone() : x;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    let g: Tensor | null = doutput;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const inputGrad = i > 0 || ctx.inputGrad;
      const grad = g as Tensor;
      // A gradient a built-in child returned lives in its scratch: safe to overwrite in place. Not
      // one a user layer returned (it may keep it), nor the caller's unless the caller says so.
      const overwriteGrad =
        grad.data !== doutput.data ? hasFastBackward(this.layers[i + 1]) : ctx.overwriteGrad === true;
      // A ReLU fused into the BatchNorm before it: the BatchNorm's backward runs the ReLU's.
      if (reluFusedInto(this.layers[i - 1], this.layers[i])) continue;
      // A ReLU (not fused into a BatchNorm) before a MaxPool2d: the pool's backward runs the ReLU's, in one pass.
      const [relu, layer] = [this.layers[i - 1], this.layers[i]];
      if (fusesReluMaxPool(relu, layer) && (i > 1 || ctx.inputGrad) && !reluFusedInto(this.layers[i - 2], relu)) {
        g = layer.backwardThroughRelu(grad, (relu as ReLU).output(), { reuse: true, inputGrad: true });
        i--;
        continue;
      }
      g = layer.backwardWith(grad, { reuse: true, inputGrad, overwriteGrad });
    }
    return g === null || ctx.reuse || g === doutput ? g : g.clone();
  }

  override predict(input: Tensor): Tensor {
    const program = this.inferenceProgram(input);
    return program ? runProgram(this, program, input) : super.predict(input);
  }

  /**
   * The native program for this input's image shape (compiled once per shape), or null; used by
   * predict() and by predictAsync()'s batcher. Throws on a malformed input.
   */
  inferenceProgram(input: Tensor): CompiledProgram | null {
    const key = programKey(input);
    if (this.compiled?.key !== key) {
      // A user's forward() cannot run natively (nor can a built-in layer's subclass that overrides it).
      const layers = this.flatLayers();
      const native = layers.every(hasFastForward) ? compileProgram(layers, input.shape.slice(1)) : null;
      this.compiled = { key, program: native };
    }
    return this.compiled.program;
  }

  /** Children in execution order, nested Sequentials expanded. */
  private flatLayers(): Module[] {
    return this.layers.flatMap((m) => (m instanceof Sequential ? m.flatLayers() : [m]));
  }
}
