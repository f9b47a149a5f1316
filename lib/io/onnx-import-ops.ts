// SPDX-License-Identifier: MIT
// ONNX import, op side: the converter of each supported op type, as the layer and graph-op kinds declare them
// (lib/layers/, `fromOnnx`), plus the ops that make no layer (Identity); the graph walk and importOnnx are onnx-import.ts.
import { matMul } from '../layers/linear';
import { onnxConverters } from '../layers/registry';
import type { Converter } from './onnx-import-proto';

export { matMul };

/** Ops that make no layer. */
const PASS_THROUGH: Readonly<Record<string, Converter>> = {
  Identity: (ctx) => {
    ctx.allowAttributes([]);
    return null;
  },
};

/** The ops importOnnx turns into layers or graph ops (MatMul, with its Add, is handled by the graph walk). */
export function converters(): Readonly<Record<string, Converter>> {
  return { ...onnxConverters(), ...PASS_THROUGH };
}

/** Names of the supported ops, for error messages and docs. */
export function supportedOps(): string[] {
  return [...Object.keys(converters()), 'MatMul (+ Add)', 'Constant'].sort();
}
