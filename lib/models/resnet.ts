// SPDX-License-Identifier: MIT
// The CIFAR ResNets of He et al. 2016 (section 4.2) as Graphs: ResNet, its BasicBlock, and resnet20/32/44/56, with
// PyTorch's state-dict names (those of the reference definition in test/fixtures/graph/resnet_cifar.py).
import { checkInt, checkOptions, describe } from '../check';
import { AdaptiveAvgPool2d } from '../modules/adaptive-avg-pool2d';
import { BatchNorm2d } from '../modules/batch-norm';
import { Conv2d } from '../modules/conv2d';
import { Graph, type GraphNodeSpec } from '../modules/graph';
import { GraphBuilder, type GraphValue } from '../modules/graph-builder';
import { Linear } from '../modules/linear';
import { Sequential } from '../modules/sequential';

/** How a block whose shape changes adds its input: A, a parameter-free shortcut; B, a 1x1 projection. */
export type Shortcut = 'A' | 'B';

export interface ResNetOptions {
  /** 6n + 2 layers: 20, 32, 44, 56, 110, ... Default 20. */
  depth?: number;
  /**
   * 'A' (default, the paper's CIFAR choice): the input subsampled by 2 and zero-padded with the new channels, half
   * before and half after; 'B': a 1x1 convolution + BatchNorm projection where the shape changes.
   */
  shortcut?: Shortcut;
  /** Default 10. */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** The image side the model is meant for (recorded for saved models; any side >= 4 runs). Default 32. */
  imageSize?: number;
}

export type ResNetConfig = Required<ResNetOptions>;

/** The graph of a basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). */
function blockNodes(inChannels: number, outChannels: number, stride: number, shortcut: Shortcut): GraphNodeSpec[] {
  const g = new GraphBuilder();
  const x = g.input();
  const conv = (cin: number, stride: number) =>
    new Conv2d({ inChannels: cin, outChannels, kernelSize: 3, stride, padding: 1, bias: false });
  const conv1 = g.layer('conv1', conv(inChannels, stride));
  const bn1 = g.layer('bn1', new BatchNorm2d({ numFeatures: outChannels }));
  const conv2 = g.layer('conv2', conv(outChannels, 1));
  const bn2 = g.layer('bn2', new BatchNorm2d({ numFeatures: outChannels }));
  const changes = stride !== 1 || inChannels !== outChannels;
  let identity: GraphValue = x;
  if (changes && shortcut === 'B') {
    const proj = g.layer(
      'proj',
      new Sequential(
        new Conv2d({ inChannels, outChannels, kernelSize: 1, stride, bias: false }),
        new BatchNorm2d({ numFeatures: outChannels }),
      ),
    );
    identity = proj(x);
  }
  const h = conv2(g.relu(bn1(conv1(x))));
  if (changes && shortcut === 'A') {
    if (stride !== 2 || outChannels < inChannels)
      throw new RangeError(
        `BasicBlock: shortcut A takes stride 2 and more channels, got stride ${stride}, ${inChannels} -> ${outChannels}`,
      );
    // x[:, :, ::2, ::2], then the extra channels as zeros: half before, half after.
    const pad = outChannels - inChannels;
    const half = Math.floor(pad / 2);
    identity = g.pad(g.slice(x, { axes: [2, 3], steps: [2, 2] }), [
      [half, pad - half],
      [0, 0],
      [0, 0],
    ]);
  }
  // The shortcut's nodes come before bn2, so that bn2, the add and the last ReLU are adjacent (Graph runs their forward
  // as one pass, BatchNormBase.forwardWithAddRelu), and after conv1, so that conv1's input gradient is added into the
  // shortcut's in its own pass (Conv2d's addInto), with no separate add.
  return g.specs(g.relu(g.add(bn2(h), identity)));
}

/**
 * The basic block of a CIFAR ResNet: two 3x3 convolutions with BatchNorm, and the shortcut added before the last ReLU.
 * State dict: conv1.weight, bn1.*, conv2.weight, bn2.*, and proj.0.weight, proj.1.* for a shortcut-B projection.
 */
export class BasicBlock extends Graph {
  constructor(inChannels: number, outChannels: number, stride: number, shortcut: Shortcut = 'A') {
    super(blockNodes(inChannels, outChannels, stride, shortcut));
  }
}

/**
 * A CIFAR ResNet (He et al. 2016, section 4.2): a 3x3 convolution (16 channels) + BatchNorm + ReLU, three stages of
 * n basic blocks with 16, 32 and 64 channels (the first block of stages 2 and 3 has stride 2), global average pooling
 * and a linear layer; 6n + 2 layers. ResNet-20 has 269,722 parameters with shortcut A, 272,474 with B.
 *
 * State-dict names as PyTorch's reference: conv.weight, bn.*, layers.<i>.conv1.weight, ..., fc.weight, fc.bias.
 *
 * Shape: [N, inChannels, H, W] -> [N, numClasses].
 *
 * @example
 * manualSeed(0);
 * const net = resnet20();                        // new ResNet({ depth: 20 })
 * const b = new ResNet({ depth: 56, shortcut: 'B' });
 */
export class ResNet extends Graph {
  readonly config: ResNetConfig;

  constructor(options: ResNetOptions = {}) {
    const config = resnetConfig(options);
    const n = (config.depth - 2) / 6;
    const blocks: BasicBlock[] = [];
    let cin = 16;
    for (const [stage, cout] of [16, 32, 64].entries()) {
      for (let i = 0; i < n; i++) {
        blocks.push(new BasicBlock(cin, cout, i === 0 && stage > 0 ? 2 : 1, config.shortcut));
        cin = cout;
      }
    }
    const g = new GraphBuilder();
    const x = g.input();
    const conv = g.layer(
      'conv',
      new Conv2d({ inChannels: config.inChannels, outChannels: 16, kernelSize: 3, padding: 1, bias: false }),
    );
    const bn = g.layer('bn', new BatchNorm2d({ numFeatures: 16 }));
    const layers = g.layer('layers', new Sequential(...blocks));
    const fc = g.layer('fc', new Linear({ inFeatures: 64, outFeatures: config.numClasses }));
    const features = layers(g.relu(bn(conv(x))));
    super(g.specs(fc(g.flatten(g.apply(new AdaptiveAvgPool2d(1), features)))));
    this.config = config;
  }

  override extraRepr(): string {
    const c = this.config;
    return `depth=${c.depth}, shortcut=${c.shortcut}, numClasses=${c.numClasses}, inChannels=${c.inChannels}`;
  }
}

function resnetConfig(options: ResNetOptions): ResNetConfig {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`ResNet: options must be an object, got ${describe(options)}`);
  checkOptions('ResNet', options, ['depth', 'shortcut', 'numClasses', 'inChannels', 'imageSize']);
  const depth = checkInt('ResNet: depth', options.depth ?? 20, 8);
  if ((depth - 2) % 6 !== 0) throw new RangeError(`ResNet: depth must be 6n + 2 (20, 32, 44, 56, ...), got ${depth}`);
  const shortcut = options.shortcut ?? 'A';
  if (shortcut !== 'A' && shortcut !== 'B')
    throw new RangeError(`ResNet: shortcut must be 'A' or 'B', got ${JSON.stringify(shortcut) ?? describe(shortcut)}`);
  return {
    depth,
    shortcut,
    numClasses: checkInt('ResNet: numClasses', options.numClasses ?? 10),
    inChannels: checkInt('ResNet: inChannels', options.inChannels ?? 3),
    imageSize: checkInt('ResNet: imageSize', options.imageSize ?? 32, 4),
  };
}

/**
 * Parameter and buffer values of the ResNet `options` describe, computed without building it (loadModel refuses a file
 * whose config would allocate far more than its tensors hold). Throws what the constructor throws for bad options.
 *
 * @example
 * resnetStateValues({ depth: 20 }); // 269722 parameters + 19 BatchNorms' running statistics and counters
 */
export function resnetStateValues(options: ResNetOptions): number {
  const { depth, shortcut, numClasses, inChannels } = resnetConfig(options);
  const n = (depth - 2) / 6;
  const norm = (c: number) => 4 * c + 1; // weight, bias, running mean and variance, num_batches_tracked
  let values = 16 * inChannels * 9 + norm(16) + 64 * numClasses + numClasses;
  let cin = 16;
  for (const cout of [16, 32, 64]) {
    // The first block of a stage maps cin -> cout, the n - 1 others cout -> cout.
    const block = (c: number) => cout * c * 9 + cout * cout * 9 + 2 * norm(cout);
    const projection = shortcut === 'B' && cin !== cout ? cout * cin + norm(cout) : 0;
    values += block(cin) + projection + (n - 1) * block(cout);
    cin = cout;
  }
  return values;
}

/** ResNet-20 (n = 3): 269,722 parameters with shortcut A. */
export function resnet20(options: Omit<ResNetOptions, 'depth'> = {}): ResNet {
  return new ResNet({ ...options, depth: 20 });
}

/** ResNet-32 (n = 5). */
export function resnet32(options: Omit<ResNetOptions, 'depth'> = {}): ResNet {
  return new ResNet({ ...options, depth: 32 });
}

/** ResNet-44 (n = 7). */
export function resnet44(options: Omit<ResNetOptions, 'depth'> = {}): ResNet {
  return new ResNet({ ...options, depth: 44 });
}

/** ResNet-56 (n = 9). */
export function resnet56(options: Omit<ResNetOptions, 'depth'> = {}): ResNet {
  return new ResNet({ ...options, depth: 56 });
}

/** The built-in ResNets by name, for the CLI. */
export const RESNETS: Readonly<Record<string, number>> = Object.freeze({
  resnet20: 20,
  resnet32: 32,
  resnet44: 44,
  resnet56: 56,
});
