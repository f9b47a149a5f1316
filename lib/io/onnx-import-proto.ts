// SPDX-License-Identifier: MIT
// ONNX import, protobuf side: initializers and Constant nodes as typed arrays, node attributes by type, and the per-node
// context converters read them through; which ops become which layers is onnx-import-ops.ts.
import { onnx } from 'onnx-proto';
import { FileFormatError } from '../errors';
import type { GraphOp } from '../modules/graph-op';
import type { Module } from '../modules/module';
import { Generator } from '../random';

const { DataType, DataLocation } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/**
 * A converter: the layer or graph op (or several, applied in order) for one node, or null for a node that changes
 * nothing (Identity, a no-op Reshape). `inShapes` are the shapes of the computed values the node reads, in its input
 * order (ctx.inShape is the first).
 */
export type Converter = (
  ctx: NodeContext,
  inShapes: readonly (readonly number[])[],
) => Module | GraphOp | (Module | GraphOp)[] | null;

/** The generator of an imported layer's throwaway initial weights: importing must not draw from the global random stream. */
export const layerGenerator = (): Generator => new Generator(0);

/** An int64 field as protobufjs decodes it: a number, or a Long when the `long` package is installed. */
type Int64 = number | { toString(): string };

/** A decoded constant: float32 weights, or integers (INT64 shapes, BOOL flags). */
export interface ConstTensor {
  name: string;
  dims: number[];
  /** Set for FLOAT tensors. */
  float?: Float32Array;
  /** Set for INT64 and BOOL tensors. */
  int?: number[];
  /**
   * Set on integers folded from a tensor's shape (onnx-import-shape.ts): true where the entry is the batch size, which
   * is known only at run time (`int` holds 1 there). Only Reshape's shape may be such a value.
   */
  batch?: boolean[];
}

/** Reads the bytes of a tensor stored outside the model file (external data); see onnx-import-external.ts. */
export type ExternalDataReader = (
  t: onnx.ITensorProto,
  bytes: number,
  fail: (detail: string) => FileFormatError,
) => Uint8Array;

/** Text from the file made printable (control characters as "?") and cut to 60 characters, for error messages. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}

/** Numbers from the file as "[1, 2, 3]", cut after 8 values. */
export function list(values: readonly (number | string)[]): string {
  return `[${values.slice(0, 8).join(', ')}${values.length > 8 ? `, ... (${values.length} values)` : ''}]`;
}

/** A name from the file, quoted for an error message: 'conv1.weight'. */
export function q(name: string | null | undefined): string {
  return `'${printable(name ?? '')}'`;
}

/** A shape with its batch placeholder shown as such: "[batch, 3, 32, 32]". */
export function batchShape(shape: readonly number[]): string {
  return list(['batch', ...shape.slice(1)]);
}

/** An int64 as a JS number; throws through `fail` outside the safe-integer range. */
export function toInt(v: Int64 | null | undefined, what: string, fail: (detail: string) => FileFormatError): number {
  const n = typeof v === 'number' ? v : v === null || v === undefined ? 0 : Number(String(v));
  if (!Number.isSafeInteger(n)) throw fail(`${what} ${String(v)} is not an integer JS can hold exactly`);
  return n;
}

/** The shortest decimal that rounds to the same float32, so 1e-5 stored as float32 reads back as 1e-5 and not 9.99999974e-6. */
export function float32Decimal(f: number): number {
  if (!Number.isFinite(f)) return f;
  const target = Math.fround(f);
  for (let p = 1; p <= 9; p++) {
    const d = Number(target.toPrecision(p));
    if (Math.fround(d) === target) return d;
  }
  return target;
}

/**
 * An int64 value as a number, saturated to the safe-integer range: values beyond it only mean "past any end" (Slice's
 * INT64_MAX), and as a size they fail the checks on sizes.
 */
function saturate(v: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(v > max ? max : v < -max ? -max : v);
}

function typeName(dataType: number): string {
  return (DataType as unknown as Record<number, string | undefined>)[dataType] ?? `data type ${dataType}`;
}

/** Bytes per value of the types decodeTensor reads from external data. */
const EXTERNAL_SIZES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1 };

/**
 * The values of a TensorProto (initializer or Constant value). Only FLOAT, INT64 and BOOL are read; external data
 * only through `external`; segments and every other type throw through `fail`, which names the file and the tensor's user.
 */
export function decodeTensor(
  t: onnx.ITensorProto,
  fail: (detail: string) => FileFormatError,
  external?: ExternalDataReader,
): ConstTensor {
  const name = t.name ?? '';
  const what = `tensor ${q(name)}`;
  if (t.segment) throw fail(`${what} is a segment of a larger tensor, which is not supported`);
  const dims = (t.dims ?? []).map((d) => toInt(d, `${what} dimension`, fail));
  if (dims.some((d) => d < 0)) throw fail(`${what} has a negative dimension ${list(dims)}`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count > 2 ** 31) throw fail(`${what} of shape ${list(dims)} is too large`);
  let raw = t.rawData ?? new Uint8Array(0);
  const dataType = t.dataType ?? 0;
  if (t.dataLocation === DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    const size = EXTERNAL_SIZES[dataType];
    if (size === undefined)
      throw fail(`${what} is ${typeName(dataType)}; simdnet reads float32 weights (and int64 shapes) only`);
    if (external === undefined) throw fail(`${what} keeps its data in an external file, which is not supported here`);
    // The reader checks the file holds `count * size` bytes at the offset before it allocates them.
    raw = external(t, count * size, fail);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const checkCount = (got: number, unit: string): void => {
    if (got !== count) throw fail(`${what} of shape ${list(dims)} needs ${count} values, but holds ${got} ${unit}`);
  };
  if (dataType === DataType.FLOAT) {
    // Counts are checked before allocating: the dims of a hostile file may promise gigabytes.
    if (raw.length > 0) {
      if (raw.length % 4 !== 0) throw fail(`${what} has ${raw.length} bytes of float32 data, not a multiple of 4`);
      checkCount(raw.length / 4, 'float32 values');
      const float = new Float32Array(count);
      for (let i = 0; i < count; i++) float[i] = view.getFloat32(4 * i, true);
      return { name, dims, float };
    }
    checkCount(t.floatData?.length ?? 0, 'float_data values');
    return { name, dims, float: Float32Array.from(t.floatData ?? []) };
  }
  if (dataType === DataType.INT64) {
    let int: number[];
    if (raw.length > 0) {
      if (raw.length % 8 !== 0) throw fail(`${what} has ${raw.length} bytes of int64 data, not a multiple of 8`);
      checkCount(raw.length / 8, 'int64 values');
      int = Array.from({ length: count }, (_, i) => saturate(view.getBigInt64(8 * i, true)));
    } else {
      checkCount(t.int64Data?.length ?? 0, 'int64_data values');
      int = (t.int64Data ?? []).map((v) => saturate(BigInt(typeof v === 'number' ? v : String(v))));
    }
    return { name, dims, int };
  }
  if (dataType === DataType.BOOL) {
    const values = raw.length > 0 ? Array.from(raw) : (t.int32Data ?? []);
    checkCount(values.length, 'bool values');
    return { name, dims, int: values.map((v) => (v ? 1 : 0)) };
  }
  throw fail(`${what} is ${typeName(dataType)}; simdnet reads float32 weights (and int64 shapes) only`);
}

/** The model's constants: initializers, then Constant node outputs; each is decoded when a node first reads it. */
export class ConstantTable {
  private readonly protos = new Map<string, onnx.ITensorProto>();
  private readonly decoded = new Map<string, ConstTensor>();

  /** @param external reads initializers kept in external files (none: they are errors). */
  constructor(private readonly external?: ExternalDataReader) {}

  has(name: string): boolean {
    return this.protos.has(name) || this.decoded.has(name);
  }

  addProto(name: string, t: onnx.ITensorProto): void {
    this.protos.set(name, t);
  }

  addDecoded(name: string, t: ConstTensor): void {
    this.decoded.set(name, t);
  }

  get(name: string, fail: (detail: string) => FileFormatError): ConstTensor {
    let t = this.decoded.get(name);
    if (t === undefined) {
      const proto = this.protos.get(name);
      if (proto === undefined) throw fail(`${q(name)} is not a constant (an initializer or a Constant node's output)`);
      t = decodeTensor({ ...proto, name }, fail, this.external);
      this.decoded.set(name, t);
    }
    return t;
  }
}

/** What a converter reads of one node: its attributes by type, its constant inputs, and the shape it receives. */
export class NodeContext {
  readonly opType: string;
  private readonly attributes = new Map<string, onnx.IAttributeProto>();

  /**
   * @param inShape the shape the node receives, batch first (the batch is a placeholder 1).
   * @param inputBatch the graph input's fixed batch size, when it declares one instead of a symbolic axis.
   */
  constructor(
    readonly file: string,
    readonly node: onnx.INodeProto,
    readonly index: number,
    readonly opset: number,
    readonly inShape: readonly number[],
    readonly inputBatch: number | undefined,
    private readonly constants: ConstantTable,
  ) {
    this.opType = node.opType ?? '';
    for (const a of node.attribute ?? []) {
      const key = a.name ?? '';
      if (this.attributes.has(key)) throw this.fail(`has two attributes named ${q(key)}`);
      this.attributes.set(key, a);
    }
  }

  /** "node '/conv1/Conv' (Conv)", or "node #3 (Conv)" for an unnamed node. */
  get label(): string {
    return `node ${this.node.name ? q(this.node.name) : `#${this.index}`} (${printable(this.opType)})`;
  }

  /** A FileFormatError "<file>: node 'x' (Op): <detail>". */
  fail(detail: string): FileFormatError {
    return new FileFormatError(this.file, `${this.label}: ${detail}`);
  }

  /** Throws for any attribute not in `known`, so nothing is silently ignored. */
  allowAttributes(known: readonly string[]): void {
    for (const key of this.attributes.keys()) {
      if (!known.includes(key))
        throw this.fail(
          `attribute ${q(key)} is not supported (supported for ${this.opType}: ${known.join(', ') || 'none'})`,
        );
    }
  }

  private attr(
    name: string,
    type: number,
    has: (a: onnx.IAttributeProto) => boolean,
  ): onnx.IAttributeProto | undefined {
    const a = this.attributes.get(name);
    if (a === undefined) return undefined;
    // IR < 3 files may leave `type` unset: then the filled field decides.
    if (a.type !== type && !((a.type ?? 0) === AttributeType.UNDEFINED && has(a))) {
      throw this.fail(
        `attribute ${q(name)} must be ${AttributeType[type]}, got ${AttributeType[a.type ?? 0] ?? a.type}`,
      );
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.attr(name, AttributeType.INT, (x) => x.i !== undefined && x.i !== null);
    return a === undefined ? fallback : toInt(a.i, `attribute ${q(name)}`, (d) => this.fail(d));
  }

  /** A FLOAT attribute as the shortest decimal of its float32 value (epsilon 1e-5, alpha 0.2). */
  float(name: string, fallback: number): number {
    const a = this.attr(name, AttributeType.FLOAT, (x) => x.f !== undefined && x.f !== null);
    if (a === undefined) return fallback;
    const f = a.f ?? 0;
    if (!Number.isFinite(f)) throw this.fail(`attribute ${q(name)} is ${f}`);
    return float32Decimal(f);
  }

  ints(name: string): number[] | undefined {
    const a = this.attr(name, AttributeType.INTS, (x) => (x.ints?.length ?? 0) > 0);
    return a === undefined
      ? undefined
      : (a.ints ?? []).map((v) => toInt(v, `attribute ${q(name)}`, (d) => this.fail(d)));
  }

  floatList(name: string): number[] | undefined {
    const a = this.attr(name, AttributeType.FLOATS, (x) => (x.floats?.length ?? 0) > 0);
    return a === undefined ? undefined : [...(a.floats ?? [])];
  }

  has(name: string): boolean {
    return this.attributes.has(name);
  }

  string(name: string, fallback: string): string {
    const a = this.attr(name, AttributeType.STRING, (x) => (x.s?.length ?? 0) > 0);
    return a === undefined ? fallback : Buffer.from(a.s ?? new Uint8Array(0)).toString('utf8');
  }

  /** A TENSOR attribute (Constant's `value`). */
  tensor(name: string): ConstTensor | undefined {
    const a = this.attr(name, AttributeType.TENSOR, (x) => x.t !== undefined && x.t !== null);
    return a === undefined
      ? undefined
      : decodeTensor({ ...(a.t ?? {}), name: a.t?.name || (this.node.output?.[0] ?? '') }, (d) => this.fail(d));
  }

  /** The name of input `pos`, or undefined when absent or empty (an omitted optional input). */
  inputName(pos: number): string | undefined {
    const name = this.node.input?.[pos];
    return name ? name : undefined;
  }

  /**
   * The constant at input `pos` (undefined when optional and absent); its shape must be `dims` when given. A value
   * computed from the batch size (ConstTensor.batch) is an error unless `batch` allows it.
   */
  constant(pos: number, what: string, dims?: readonly number[], batch = false): ConstTensor | undefined {
    const name = this.inputName(pos);
    if (name === undefined) return undefined;
    if (!this.constants.has(name))
      throw this.fail(
        `${what} ${q(name)} must be a constant (an initializer or a Constant node); simdnet imports fixed weights only`,
      );
    const t = this.constants.get(name, (d) => this.fail(d));
    if (t.batch !== undefined && !batch) {
      throw this.fail(
        `${what} ${q(name)} is computed from the batch size, which simdnet knows only at run time (only a Reshape's shape may be)`,
      );
    }
    if (dims !== undefined && (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))) {
      throw this.fail(`${what} ${q(name)} has shape ${list(t.dims)}, expected ${list(dims)}`);
    }
    return t;
  }

  /** A float32 constant at `pos`; throws when absent or not FLOAT. */
  floats(pos: number, what: string, dims?: readonly number[]): ConstTensor & { float: Float32Array } {
    const t = this.constant(pos, what, dims);
    if (t === undefined) throw this.fail(`has no ${what} (input ${pos})`);
    if (t.float === undefined) throw this.fail(`${what} ${q(t.name)} must be float32`);
    return t as ConstTensor & { float: Float32Array };
  }

  /** Throws unless the node receives a tensor of rank `rank` (`why` says what simdnet supports). */
  expectRank(rank: number, why: string): void {
    if (this.inShape.length !== rank) throw this.fail(`${why}; the input here is ${batchShape(this.inShape)}`);
  }
}
