// SPDX-License-Identifier: MIT
// The layer types behind buildModelFromSpec(), as the layer kinds declare them (lib/layers/, `spec`): each type's
// options, the sizes it infers from the running shape, and its constructor call. The list walking, names, nesting and
// graphs are in model-spec.ts.
import type { SpecType } from '../layers/kind';
import { specTypes } from '../layers/registry';

/** One layer type a spec can name. */
export type LayerType = SpecType;

/** Every layer type a spec can use, by its lower-case name (graph ops are model-spec.ts's). */
export function layerTypes(): Readonly<Record<string, LayerType>> {
  const out: Record<string, LayerType> = {};
  for (const [name, entry] of specTypes()) if ('layer' in entry) out[name] = entry.layer;
  return out;
}
