// SPDX-License-Identifier: MIT
// Flatten: merges dimensions startDim..endDim into one (a reshape; shares data).
import { checkInt, checkOptions } from '../check';
import { expectShape, formatShape, shapeSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

export interface FlattenOptions {
  /** Default 1 (keeps the batch dimension). Negative counts from the end. */
  startDim?: number;
  /** Default -1. */
  endDim?: number;
}

/** Flattens dims startDim..endDim, as torch.nn.Flatten. Shape: [N, C, H, W] -> [N, C*H*W] by default. */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  private savedShape: readonly number[] | null = null;

  constructor(options: FlattenOptions = {}) {
    super();
    const o = checkOptions('Flatten', options, ['startDim', 'endDim']);
    this.startDim = checkInt('Flatten: startDim', o.startDim ?? 1, -64, 63);
    this.endDim = checkInt('Flatten: endDim', o.endDim ?? -1, -64, 63);
  }

  outputShape(inputShape: readonly number[]): number[] {
    const nd = inputShape.length;
    const start = this.startDim < 0 ? this.startDim + nd : this.startDim;
    const end = this.endDim < 0 ? this.endDim + nd : this.endDim;
    if (start < 0 || end >= nd || start > end) {
      throw new RangeError(
        `Flatten: dims ${this.startDim}..${this.endDim} do not fit input shape ${formatShape(inputShape)}`,
      );
    }
    return [...inputShape.slice(0, start), shapeSize(inputShape.slice(start, end + 1)), ...inputShape.slice(end + 1)];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const out = input.reshape(this.outputShape(input.shape));
    if (ctx.keepState !== false) this.savedShape = input.shape;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const shape = requireSaved(this.savedShape, 'Flatten');
    expectShape('Flatten.backward: doutput', doutput.shape, this.outputShape(shape));
    return ctx.inputGrad ? doutput.reshape(shape) : null;
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
