// SPDX-License-Identifier: MIT
// Public exports of model summaries (summary, formatSummary, MAC rules, JSON model specs); no code of its own.
export { summary, type ActivationSize, type LayerSummary, type ModelSummary, type SummaryOptions } from './summary';
export { formatSummary } from './format';
export { registerMacCounter, type MacCounter } from './layer-macs';
export {
  buildModelFromSpec,
  isSpecModel,
  MAX_SPEC_DEPTH,
  MAX_SPEC_LAYERS,
  SpecTooLargeError,
  SPEC_LAYER_TYPES,
  SPEC_OP_TYPES,
  type NormalisedSpec,
  type NormalisedListSpec,
  type NormalisedGraphSpec,
  type BuildSpecOptions,
  type BuiltSpec,
  type LayerSpec,
  type ModelSpec,
  type SpecModel,
} from './model-spec';
