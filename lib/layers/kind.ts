// SPDX-License-Identifier: MIT
// LayerKind: what one layer class declares, in one place, for everything outside its forward and backward maths: its JSON
// model-spec type and options, its multiply-adds, its ONNX nodes both ways and its native inference-program op. The
// list of kinds is lib/layers/index.ts; the lookups are registry.ts.
import type { OnnxExportContext } from '../io/onnx-export-ops';
import type { Converter } from '../io/onnx-import-proto';
import type { GraphOp } from '../modules/graph-op';
import type { Module } from '../modules/module';
import type { OpOperands } from '../modules/program';
import type { ProgramEmitter } from '../modules/program-code';
import type { Generator } from '../random';

/** A Module class (abstract ones too: BatchNormBase's rules serve BatchNorm1d and BatchNorm2d). */
export type LayerClass<M extends Module = Module> = abstract new (...args: never[]) => M;

/**
 * Counts the multiply-adds one forward pass of `layer` does for a whole input of `inputShape`
 * (batch included), given the `outputShape` the layer reported for it.
 */
export type MacCounter<M extends Module = Module> = (
  layer: M,
  inputShape: readonly number[],
  outputShape: readonly number[],
) => number;

/** Options as a JSON model spec gives them (camelCase, checked against SpecType.options before build). */
export type SpecOptions = Record<string, unknown>;

/** How a JSON model spec (docs/models.md) names and builds the layer. */
export interface SpecType {
  /** The lower-case type name ("conv2d"). */
  readonly type: string;
  /** The options the spec may give, in the constructor's order. */
  readonly options: readonly string[];
  /**
   * The options as a normalised spec records them for input `shape` (batch first): the given ones plus the sizes
   * inferred from the shape (inChannels, inFeatures, numFeatures), after checking the input rank. `where` starts
   * every error message. Default: the options as given.
   */
  normalise?(options: SpecOptions, shape: readonly number[], where: string): SpecOptions;
  /**
   * Parameter and buffer values the layer allocates for these (normalised) options, counted without building it (so
   * a hostile spec is refused before anything is allocated); NaN when an option is not a number (the constructor
   * then says what is wrong). Default: 0 (no weights).
   */
  stateValues?(options: SpecOptions): number;
  /** Builds the layer from normalised options; `rng` seeds the initial weights. */
  build(options: SpecOptions, rng: Generator): Module;
}

/**
 * How inference programs (lib/modules/program.ts, native/ops/program.cc) run the layer in eval mode:
 * - a function that writes its op(s) through the emitter, returning false when this instance cannot run natively
 *   (the model then predicts in JavaScript);
 * - 'identity': nothing to run (Dropout in eval mode; Flatten, since programs keep values flat);
 * - 'batchnorm': folded into the weights of the Conv2d or Linear before it (see LayerKind.foldsBatchNorm).
 */
export type ProgramRule<M extends Module = Module> =
  ((layer: M, program: ProgramEmitter) => boolean) | 'identity' | 'batchnorm';

/** Everything simdnet needs to know about one layer class besides its own forward and backward. */
export interface LayerKind<M extends Module = Module> {
  /** The class. Subclasses use the nearest ancestor's declarations for each concern they do not declare themselves. */
  readonly module: LayerClass<M>;
  /** Only instances of exactly this class match (a subclass may change what the layer computes). */
  readonly exact?: boolean;
  /** The JSON model-spec types building this class (usually one). */
  readonly spec?: readonly SpecType[];
  /** Multiply-adds per forward pass, for summary(). */
  readonly macs?: MacCounter<M>;
  /**
   * The ONNX node(s) for the layer: adds them through `ctx` and returns the output value's name. Throws ctx.unsupported()
   * for a form ONNX cannot express.
   */
  readonly toOnnx?: (layer: M, ctx: OnnxExportContext) => string;
  /** ONNX op types this kind imports, each with its converter (a node -> layer(s)). */
  readonly fromOnnx?: Readonly<Record<string, Converter>>;
  /** The native inference-program op. */
  readonly program?: ProgramRule<M>;
  /** For a weighted layer: true when the eval-mode `norm` right after it can be folded into its weights and bias. */
  readonly foldsBatchNorm?: (layer: M, norm: Module) => boolean;
}

/** Declares a kind with its class's type checked against the rules (an identity function). */
export function layerKind<M extends Module>(kind: LayerKind<M>): LayerKind<M> {
  return kind;
}

/** What a graph op (lib/modules/graph-ops*.ts) declares: its spec type, ONNX nodes both ways and program op. */
export interface OpKind<O extends GraphOp = GraphOp> {
  /** The op class. */
  readonly op: abstract new (...args: never[]) => O;
  /** The spec type, also the op's `type` ("add"). */
  readonly type: string;
  /** The options a spec node may give. */
  readonly options: readonly string[];
  /** The op from spec options (the constructor validates them). */
  make(options: SpecOptions): O;
  /** The ONNX node(s) for the op; `ctx.inputs` holds every value it reads. */
  readonly toOnnx?: (op: O, ctx: OnnxExportContext) => string;
  /** ONNX op types imported as this op, each with its converter (which may also return layers). */
  readonly fromOnnx?: Readonly<Record<string, Converter>>;
  /** Writes the program op (false: this instance cannot run natively); 'identity': nothing to run (a reshape). */
  readonly program?: ((op: O, program: ProgramEmitter & OpOperands) => boolean) | 'identity';
}

/** Declares an op kind with its class's type checked against the rules. */
export function opKind<O extends GraphOp>(kind: OpKind<O>): OpKind<O> {
  return kind;
}
