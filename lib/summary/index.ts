// SPDX-License-Identifier: MIT
// Public exports of model summaries (summary, formatSummary, MAC rules, JSON model specs); no code of its own.
export { summary, type ActivationSize, type LayerSummary, type ModelSummary, type SummaryOptions } from './summary';
export { formatSummary } from './format';
export { registerMacCounter, type MacCounter } from './layer-macs';
export { buildModelFromSpec, SPEC_LAYER_TYPES, type LayerSpec, type ModelSpec } from './model-spec';
