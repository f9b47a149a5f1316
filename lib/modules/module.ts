// SPDX-License-Identifier: MIT
// Module: the base class of layers and models (parameters, buffers, children, modes, state dicts).
import { describe } from '../check';
import { ShapeError } from '../errors';
import { native } from '../native';
import { formatShape, sameShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { Parameter } from './parameter';
import { predictBatched } from './predict-batcher';

/**
 * Base class of every layer and model, as torch.nn.Module. A subclass overrides forward(x),
 * backward(dout) and outputShape(inputShape), registers its parameters, buffers and child modules,
 * and may describe itself in extraRepr() (docs/custom-layers.md shows a whole layer).
 *
 * forward() in training mode keeps what backward() needs; backward(dout) accumulates parameter
 * gradients into `param.grad` and returns the gradient with respect to the input.
 *
 * Built-in layers implement an internal fast path instead, forwardWith(x, ctx) /
 * backwardWith(g, ctx): the contexts let containers reuse buffers between calls, skip input
 * gradients and overwrite gradients in place. A user subclass never needs it: containers call a
 * user's forward()/backward() as they are (also in a subclass of a built-in layer that overrides
 * them), give it no buffer they will overwrite, and never overwrite what it returns.
 */
export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private readonly workspace = new Map<string, Tensor>();

  constructor() {
    // A subclass that overrides forward() (backward()) below a class with its own forwardWith()
    // (backwardWith()), i.e. a user subclass of a built-in layer, gets the user path on this
    // instance, so containers calling the fast path run the override too.
    const proto = new.target.prototype as Module;
    if (overrides(proto, 'forward', 'forwardWith')) this.forwardWith = Module.prototype.forwardWith;
    if (overrides(proto, 'backward', 'backwardWith')) this.backwardWith = Module.prototype.backwardWith;
  }

  /** The output shape for an input shape (validates the input shape). */
  abstract outputShape(inputShape: readonly number[]): number[];

  /**
   * Computes the output; in training mode keeps what backward() needs. Returns a tensor the caller
   * may keep. Override it (with backward and outputShape) to write a layer; predict() calls it in
   * eval mode.
   */
  forward(input: Tensor): Tensor {
    // Inside predict(), a built-in layer reached through a user's forward() keeps its saved state too.
    const ctx = predicting > 0 ? PREDICT_FORWARD : FRESH_FORWARD;
    return fastPath(this, 'forwardWith', 'forward').call(this, input, ctx);
  }

  /**
   * Accumulates parameter gradients into `param.grad` and returns the gradient with respect to
   * the input of the last forward(). With `{ inputGrad: false }` the input gradient is not
   * computed (cheaper for a model's first layer) and null is returned.
   */
  backward(doutput: Tensor): Tensor;
  backward(doutput: Tensor, options: BackwardOptions): Tensor | null;
  backward(doutput: Tensor, options: BackwardOptions = {}): Tensor | null {
    const ctx = { reuse: false, inputGrad: options.inputGrad ?? true };
    return fastPath(this, 'backwardWith', 'backward').call(this, doutput, ctx);
  }

  /**
   * Inference: the output for `input` as in eval mode, leaving the module's mode and the state
   * backward() needs untouched. (Sequential models of Conv2d, MaxPool2d, Linear, ReLU and Flatten
   * run it as one native call.)
   */
  predict(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`predict: input must be a Tensor, got ${describe(input)}`);
    const restore = saveModes(this);
    this.eval();
    predicting++;
    try {
      return this.forwardWith(input, PREDICT_FORWARD);
    } finally {
      predicting--;
      restore();
    }
  }

  /**
   * predict() off the event loop where the model supports it: models that compile to a
   * native program (Sequentials and Graphs) run on a thread-pool thread, and concurrent calls with the same sample shape are
   * batched (setBatching; docs/serving.md). Each call resolves to exactly what a lone predict() of
   * its input gives, with the weights as they are when its batch starts (an immutable snapshot shared
   * by the batch: later weight changes never tear a result). The input is copied at the call. Other
   * modules run predict() now.
   */
  predictAsync(input: Tensor): Promise<Tensor> {
    // Not an async function: the batcher's own promise, without another one (and its microtask turns) around it.
    try {
      return predictBatched(this, input);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * forward() for containers (the internal fast path of built-in layers): `ctx.reuse` allows
   * returning a buffer the next call overwrites, `ctx.keepState: false` (predict) leaves the saved
   * state alone. This default, the user path, runs forward() and ignores the context.
   */
  forwardWith(input: Tensor, _ctx: ForwardContext): Tensor {
    const out = this.forward(input);
    if (!(out instanceof Tensor))
      throw new TypeError(`${this.constructor.name}.forward must return a Tensor, got ${describe(out)}`);
    return out;
  }

  /**
   * backward() for containers (the fast path); returns null only when `ctx.inputGrad` is false.
   * This default, the user path, runs backward() and ignores reuse and overwriteGrad.
   */
  backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const dinput = this.backward(doutput);
    if (!ctx.inputGrad) return null;
    if (!(dinput instanceof Tensor))
      throw new TypeError(`${this.constructor.name}.backward must return a Tensor, got ${describe(dinput)}`);
    return dinput;
  }

  /**
   * A tensor for an op's result: with `reuse`, the same memory each call while the shape holds
   * (steady-state training allocates nothing); otherwise new. Contents are not cleared unless `zero`.
   */
  protected scratch(role: string, shape: readonly number[], reuse: boolean, zero = false): Tensor {
    if (!reuse) return Tensor.zeros(shape);
    let t = this.workspace.get(role);
    if (!t || !sameShape(t.shape, shape)) {
      t = Tensor.zeros(shape);
      // Kept for many steps: worth huge pages when large (fresh, so not yet written: the advice takes effect).
      if (t.size >= HUGE_PAGE_FLOATS) native.adviseHugePages?.(t.data);
      this.workspace.set(role, t);
    } else if (zero) {
      t.data.fill(0);
    }
    return t;
  }

  protected registerParameter(name: string, param: Parameter): Parameter {
    this.ownParameters.set(name, param);
    return param;
  }

  /** Buffers are saved in the state dict but not trained (e.g. BatchNorm running statistics). */
  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    this.ownBuffers.set(name, tensor);
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    if (name === '' || name.includes('.'))
      throw new RangeError(`Module: child name '${name}' must be non-empty without '.'`);
    this.children.set(name, module);
    return module;
  }

  /** Direct children as [name, module] pairs, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter with its PyTorch-style dotted name ("conv1.weight"), in registration order. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, b] of this.ownBuffers) out.push([prefix + name, b]);
    for (const [name, child] of this.children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /** Total number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.data.size, 0);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and buffers by PyTorch name. The tensors are the module's own (not copies), like
   * PyTorch's state_dict(); clone them to keep a snapshot.
   */
  stateDict(): Record<string, Tensor> {
    const dict: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) dict[name] = p.data;
    for (const [name, b] of this.namedBuffers()) dict[name] = b;
    return dict;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers. Strict: a missing,
   * unexpected or misshapen entry throws an error naming it, and nothing is changed.
   */
  loadStateDict(dict: Record<string, Tensor>): void {
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    if (missing.length || unexpected.length) {
      const parts = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
      throw new RangeError(`loadStateDict: ${parts.join('; ')}`);
    }
    for (const [name, target] of Object.entries(own)) {
      const source = dict[name];
      if (!(source instanceof Tensor)) throw new TypeError(`loadStateDict: '${name}' must be a Tensor`);
      if (!sameShape(source.shape, target.shape)) {
        throw new ShapeError(
          `loadStateDict: '${name}' has shape ${formatShape(source.shape)}, expected ${formatShape(target.shape)}`,
        );
      }
    }
    for (const [name, target] of Object.entries(own)) target.data.set(dict[name].data);
  }

  /** The constructor arguments worth showing, e.g. "3, 6, kernelSize=[5, 5]". */
  extraRepr(): string {
    return '';
  }

  /** A PyTorch-like tree description of the module. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.children.size === 0) return `${head})`;
    const lines = [...this.children].map(([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

export interface BackwardOptions {
  /** Compute and return the input gradient. Default true. */
  inputGrad?: boolean;
}

export interface ForwardContext {
  /** The result may live in memory this module reuses on its next call. */
  reuse: boolean;
  /** Keep what backward() needs (default: when training). False for predict(). */
  keepState?: boolean;
}

export interface BackwardContext {
  reuse: boolean;
  inputGrad: boolean;
  /** The incoming gradient is a container's scratch that the module may overwrite in place. */
  overwriteGrad?: boolean;
  /**
   * A gradient of the input's shape the module may add its input gradient into (a container's buffer, summing the
   * gradients of a value read twice): a module that does so returns this tensor; one that returns anything else must
   * leave it untouched.
   */
  addInto?: Tensor;
}

/** 2 MiB of floats: smaller scratch holds no whole huge page. */
const HUGE_PAGE_FLOATS = 1 << 19;

const FRESH_FORWARD: ForwardContext = Object.freeze({ reuse: false });
const PREDICT_FORWARD: ForwardContext = Object.freeze({ reuse: false, keepState: false });
/** Depth of predict() calls running (forward is synchronous, so one counter serves every module). */
let predicting = 0;

/**
 * True when the class chain from `proto` defines `method` (forward) nearer than `fast`
 * (forwardWith): its forward() is a user's override and must run instead of the fast path.
 */
function overrides(proto: object, method: 'forward' | 'backward', fast: 'forwardWith' | 'backwardWith'): boolean {
  for (let p = proto; p !== Module.prototype && p !== null; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, fast)) return false;
    if (Object.prototype.hasOwnProperty.call(p, method)) return true;
  }
  return false;
}

/**
 * The class's own fast path (from the prototype chain, so a user override that calls
 * super.forward() reaches the built-in layer's code). Throws when a subclass defines neither.
 */
function fastPath<K extends 'forwardWith' | 'backwardWith'>(m: Module, fast: K, method: string): Module[K] {
  const impl = (Object.getPrototypeOf(m) as Module)[fast];
  if (impl === Module.prototype[fast]) {
    throw new TypeError(
      `${m.constructor.name} must override ${method}() (a layer implements forward, backward and outputShape; see docs/custom-layers.md)`,
    );
  }
  return impl;
}

/** True when a module runs the built-in fast path (forwardWith), false for a user's forward(). */
export function hasFastForward(m: Module): boolean {
  return m.forwardWith !== Module.prototype.forwardWith;
}

/** True when a module's backward is the built-in fast path, whose result is its own scratch memory. */
export function hasFastBackward(m: Module): boolean {
  return m.backwardWith !== Module.prototype.backwardWith;
}

/** Records the `training` flag of a module and all its descendants; the returned function puts them back. */
export function saveModes(model: Module): () => void {
  const saved: [Module, boolean][] = [];
  const visit = (m: Module): void => {
    saved.push([m, m.training]);
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(model);
  return () => {
    for (const [m, mode] of saved) m.training = mode;
  };
}

/**
 * Throws unless a forward() left what backward() needs (in either mode, as PyTorch allows backward after an eval-mode
 * forward; predict() keeps nothing).
 */
export function requireSaved<T>(saved: T | undefined | null, layer: string): T {
  if (saved === undefined || saved === null) {
    throw new Error(`${layer}.backward: call forward() first (predict() keeps nothing for backward)`);
  }
  return saved;
}
