// SPDX-License-Identifier: MIT
// Every layer kind and graph op kind simdnet knows: a new layer gets its declaration file in lib/layers/ and one line
// here (see docs/architecture.md, "Adding a layer"). The lookups are registry.ts.
import { logSoftmaxKind, leakyReluKind, reluKind, sigmoidKind, softmaxKind, tanhKind } from './activations';
import {
  dropout2dKind,
  eluKind,
  geluKind,
  hardsigmoidKind,
  hardswishKind,
  hardtanhKind,
  identityKind,
  relu6Kind,
  siluKind,
} from './activations-more';
import { adaptiveMaxPool2dKind } from './adaptive-max-pool';
import { batchNorm1dKind, batchNorm2dKind, batchNormKind } from './batch-norm';
import { conv1dKind, conv2dKind } from './conv';
import { convTranspose2dKind } from './conv-transpose';
import { dropoutKind, flattenKind } from './flatten';
import { addKind, concatKind, mulKind } from './graph-ops';
import type { LayerKind, OpKind } from './kind';
import { linearKind } from './linear';
import { groupNormKind, layerNormKind } from './norm';
import { adaptiveAvgPool2dKind, avgPool2dKind, maxPool2dKind } from './pool';
import { reshapeKind } from './reshape';
import { upsampleKind } from './upsample';
import { clampKind, padKind, sliceKind } from './shape-ops';

/** The layer kinds, in the order the spec type list and docs show them. */
export const LAYER_KINDS: readonly LayerKind[] = [
  conv1dKind,
  conv2dKind,
  convTranspose2dKind,
  maxPool2dKind,
  avgPool2dKind,
  adaptiveAvgPool2dKind,
  adaptiveMaxPool2dKind,
  upsampleKind,
  batchNormKind,
  batchNorm1dKind,
  batchNorm2dKind,
  layerNormKind,
  groupNormKind,
  reluKind,
  relu6Kind,
  hardtanhKind,
  leakyReluKind,
  sigmoidKind,
  tanhKind,
  softmaxKind,
  logSoftmaxKind,
  geluKind,
  siluKind,
  hardswishKind,
  hardsigmoidKind,
  eluKind,
  identityKind,
  dropoutKind,
  dropout2dKind,
  flattenKind,
  linearKind,
] as unknown as readonly LayerKind[];

/** The graph op kinds. */
export const OP_KINDS: readonly OpKind[] = [
  addKind,
  mulKind,
  concatKind,
  reshapeKind,
  padKind,
  sliceKind,
  clampKind,
] as unknown as readonly OpKind[];
