// SPDX-License-Identifier: MIT
// Lookups in the layer and op kinds (index.ts) for their consumers: summary's MACs, the JSON model-spec builder, ONNX
// export and import, and the inference-program compiler. registerLayerKind() adds a kind (for a layer of your own).
import type { Converter } from '../io/onnx-import-proto';
import type { GraphOp } from '../modules/graph-op';
import { Module } from '../modules/module';
import { LAYER_KINDS, OP_KINDS } from './index';
import type { LayerClass, LayerKind, OpKind, SpecType } from './kind';

/** Kinds by class; a class registered twice keeps the declarations of both, the later winning. */
const byClass = new Map<LayerClass, LayerKind>();
const byOpType = new Map<string, OpKind>();
for (const kind of LAYER_KINDS) byClass.set(kind.module, kind);
for (const kind of OP_KINDS) byOpType.set(kind.type, kind);

/**
 * Adds (or extends) the kind of a layer class: summary(), buildModelFromSpec(), exportOnnx()/importOnnx() and
 * predict()'s native program then know it. Declarations given for a class already known replace those entries only.
 *
 * @example
 * registerLayerKind({ module: Square, macs: (_l, _in, out) => shapeSize(out), toOnnx: (_l, ctx) => ctx.node('Mul', [ctx.x, ctx.x]) });
 */
export function registerLayerKind<M extends Module>(kind: LayerKind<M>): void {
  if (kind === null || typeof kind !== 'object') throw new TypeError('registerLayerKind: kind must be an object');
  const cls = kind.module as unknown;
  if (typeof cls !== 'function' || !((cls as { prototype: unknown }).prototype instanceof Module))
    throw new TypeError('registerLayerKind: kind.module must be a Module subclass');
  const old = byClass.get(kind.module as LayerClass);
  byClass.set(kind.module as LayerClass, { ...old, ...(kind as unknown as LayerKind) });
  specCache = null;
  converterCache = null;
}

/**
 * The declaration `key` for `layer`: its class's, or the nearest ancestor's that declares it (a kind marked `exact`
 * serves only its own class). Undefined when no class in the chain declares it.
 */
export function layerRule<K extends keyof LayerKind>(layer: Module, key: K): LayerKind[K] | undefined {
  let exactClass = true;
  for (
    let proto = Object.getPrototypeOf(layer);
    proto && proto !== Module.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const kind = byClass.get(proto.constructor as LayerClass);
    if (kind && (exactClass || !kind.exact) && kind[key] !== undefined) return kind[key];
    exactClass = false;
  }
  return undefined;
}

/** The kind of a graph op (by its type). */
export function opKindOf(op: GraphOp): OpKind | undefined {
  const kind = byOpType.get(op.type);
  return kind && op instanceof kind.op ? kind : undefined;
}

/** A graph op's program rule, or undefined. */
export function opRule(op: GraphOp): OpKind['program'] | undefined {
  return opKindOf(op)?.program;
}

/** Names of the layer classes with an ONNX export, for error messages. */
export function EXPORTABLE_KINDS(): string[] {
  return [...byClass.values()].filter((k) => k.toOnnx).map((k) => k.module.name);
}

/** Types of the graph ops with an ONNX export. */
export function OPS_WITH_ONNX(): string[] {
  return [...byOpType.values()].filter((k) => k.toOnnx).map((k) => k.type);
}

/** A spec type: a layer's (SpecType) or a graph op's. */
export type SpecEntry = { layer: SpecType } | { op: OpKind };

let specCache: Map<string, SpecEntry> | null = null;

/** Every type a JSON model spec can name (lower case), layers first, in declaration order. */
export function specTypes(): ReadonlyMap<string, SpecEntry> {
  if (specCache === null) {
    specCache = new Map();
    for (const kind of byClass.values()) for (const t of kind.spec ?? []) specCache.set(t.type, { layer: t });
    for (const kind of byOpType.values()) specCache.set(kind.type, { op: kind });
  }
  return specCache;
}

let converterCache: Record<string, Converter> | null = null;

/** The ONNX converters of every kind, by op type. */
export function onnxConverters(): Readonly<Record<string, Converter>> {
  if (converterCache === null) {
    converterCache = {};
    for (const kind of [...byClass.values(), ...byOpType.values()])
      for (const [op, convert] of Object.entries(kind.fromOnnx ?? {})) converterCache[op] = convert;
  }
  return converterCache;
}

/** The MAC rule of `layer` (its class's or the nearest ancestor's), or undefined. */
export function macRule(layer: Module): LayerKind['macs'] | undefined {
  return layerRule(layer, 'macs');
}
