// SPDX-License-Identifier: MIT
// Conv1d: 1-D convolution layer over [N, C, L] input, run by the native conv2d kernels with H = 1 (no maths here).
import { checkBool, checkInstance, checkInt, checkOptions, describe } from '../check';
import { ShapeError } from '../errors';
import { native } from '../native';
import { defaultGenerator, Generator } from '../random';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { uniformFanIn } from './init';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { Parameter } from './parameter';

/** A 1-D size: a number or a one-element array, as PyTorch's `int or (int,)`. */
export type IntOne = number | readonly [number];

export interface Conv1dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntOne;
  /** Default 1. */
  stride?: IntOne;
  /** Zero padding on each side. Default 0. ('same'/'valid' strings are not supported.) */
  padding?: IntOne;
  /** Default 1. */
  dilation?: IntOne;
  /** Default 1; must divide inChannels and outChannels. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Generator for the initial weights; default the global one (manualSeed). */
  generator?: Generator;
}

const KNOWN = [
  'inChannels',
  'outChannels',
  'kernelSize',
  'stride',
  'padding',
  'dilation',
  'groups',
  'bias',
  'generator',
];

/** Reads a 1-D size option (`3` or `[3]`) and checks it is an integer >= min. */
function intOne(what: string, value: unknown, min: number): number {
  if (Array.isArray(value)) {
    if (value.length !== 1)
      throw new RangeError(`${what} must be a number or a one-element array, got ${value.length} entries`);
    return checkInt(what, value[0], min);
  }
  if (typeof value !== 'number') {
    const hint = typeof value === 'string' ? ` (string paddings such as 'same' are not supported)` : '';
    throw new TypeError(`${what} must be a number or a one-element array, got ${describe(value)}${hint}`);
  }
  return checkInt(what, value, min);
}

/**
 * Applies a 1-D convolution, as torch.nn.Conv1d with padding_mode 'zeros'.
 *
 * Shape: input [N, inChannels, L] -> output [N, outChannels, LOut],
 * LOut = floor((L + 2 padding - dilation (kernelSize - 1) - 1) / stride) + 1.
 * Parameters: `weight` [outChannels, inChannels / groups, kernelSize], `bias` [outChannels].
 * A [N, C, L] tensor is a [N, C, 1, L] image and the weight a [out, in, 1, k] kernel over the same
 * memory, so forward and backward are the native Conv2d kernels with height 1.
 *
 * @example
 * const conv = new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false });
 * const y = conv.forward(x); // [N, 2, 4] -> [N, 2, 2]
 */
export class Conv1d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  private savedInput: Tensor | null = null;

  constructor(options: Conv1dOptions) {
    super();
    const o = checkOptions('Conv1d', options, KNOWN);
    this.inChannels = checkInt('Conv1d: inChannels', o.inChannels);
    this.outChannels = checkInt('Conv1d: outChannels', o.outChannels);
    this.kernelSize = intOne('Conv1d: kernelSize', o.kernelSize, 1);
    this.stride = intOne('Conv1d: stride', o.stride ?? 1, 1);
    this.padding = intOne('Conv1d: padding', o.padding ?? 0, 0);
    this.dilation = intOne('Conv1d: dilation', o.dilation ?? 1, 1);
    this.groups = checkInt('Conv1d: groups', o.groups ?? 1);
    const bias = checkBool('Conv1d: bias', o.bias ?? true);
    const rng = checkInstance('Conv1d: generator', o.generator ?? defaultGenerator, Generator);
    if (this.inChannels % this.groups !== 0 || this.outChannels % this.groups !== 0) {
      throw new RangeError(
        `Conv1d: groups ${this.groups} must divide inChannels ${this.inChannels} and outChannels ${this.outChannels}`,
      );
    }
    const shape = [this.outChannels, this.inChannels / this.groups, this.kernelSize];
    this.weight = this.registerParameter('weight', new Parameter(Tensor.zeros(shape)));
    this.bias = bias ? this.registerParameter('bias', new Parameter(Tensor.zeros([this.outChannels]))) : null;
    this.resetParameters(rng);
  }

  /** PyTorch's default initialisation: weight and bias from U(+-1/sqrt(fanIn)), fanIn = inChannels / groups * kernelSize. */
  resetParameters(rng: Generator = defaultGenerator): void {
    const fanIn = (this.inChannels / this.groups) * this.kernelSize;
    uniformFanIn(this.weight.data, fanIn, rng);
    if (this.bias) uniformFanIn(this.bias.data, fanIn, rng);
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3) {
      throw new ShapeError(
        `Conv1d: input must be [N, C, L] (3 dimensions), got ${formatShape(inputShape)}` +
          (inputShape.length === 2 ? '; reshape one unbatched [C, L] sample to [1, C, L]' : ''),
      );
    }
    expectShape('Conv1d: input', inputShape, [-1, this.inChannels, -1]);
    const span = inputShape[2] + 2 * this.padding - this.dilation * (this.kernelSize - 1) - 1;
    if (span < 0) {
      throw new RangeError(
        `Conv1d: input length ${inputShape[2]} is shorter than the (dilated) kernel ${this.dilation * (this.kernelSize - 1) + 1} with padding ${this.padding}`,
      );
    }
    return [inputShape[0], this.outChannels, Math.floor(span / this.stride) + 1];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`Conv1d: input must be a Tensor, got ${describe(input)}`);
    const out = this.scratch('out', this.outputShape(input.shape), ctx.reuse);
    native.conv2dForward(
      out.data,
      input.data,
      this.weight.data.data,
      this.bias?.data.data ?? null,
      ...this.sizes(input),
    );
    if (ctx.keepState !== false) this.savedInput = this.training ? input : null;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const input = requireSaved(this.savedInput, 'Conv1d');
    expectShape('Conv1d.backward: doutput', doutput.shape, this.outputShape(input.shape));
    // The kernel accumulates into every gradient buffer: dinput starts at zero, parameter grads keep adding.
    const dinput = ctx.inputGrad ? this.scratch('dinput', input.shape, ctx.reuse, true) : null;
    native.conv2dBackward(
      dinput?.data ?? null,
      this.weight.grad.data,
      this.bias?.grad.data ?? null,
      doutput.data,
      input.data,
      this.weight.data.data,
      ...this.sizes(input),
    );
    return dinput;
  }

  /** The native conv2d size arguments for a [N, C, L] input seen as [N, C, 1, L]. */
  private sizes(
    input: Tensor,
  ): [number, number, number, number, number, number, number, number, number, number, number, number, number, number] {
    const [n, c, l] = input.shape;
    return [
      n,
      c,
      1,
      l,
      this.outChannels,
      1,
      this.kernelSize,
      1,
      this.stride,
      0,
      this.padding,
      1,
      this.dilation,
      this.groups,
    ];
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernelSize=${this.kernelSize}`];
    if (this.stride !== 1) parts.push(`stride=${this.stride}`);
    if (this.padding !== 0) parts.push(`padding=${this.padding}`);
    if (this.dilation !== 1) parts.push(`dilation=${this.dilation}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}
