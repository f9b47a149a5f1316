// SPDX-License-Identifier: MIT
// ONNX import, Pad + Conv: torch.onnx.export writes a Conv2d (or Conv1d) with padding_mode 'reflect', 'replicate' or
// (the dynamo exporter, opset 19+) 'circular' as a Pad node of mode reflect / edge / wrap and a Conv with zero pads.
// Such a pair is one convolution layer with that padding mode. A Pad of those modes anywhere else is refused by the
// Pad converter (lib/layers/shape-ops.ts), naming the node.
import { convFromOnnx } from '../layers/conv';
import { readOnnxPad } from '../layers/shape-ops';
import type { PaddingMode } from '../modules/conv-padding';
import type { Pattern, PatternInput } from './onnx-import-patterns';

/** ONNX Pad modes as PyTorch's padding_mode. */
const PADDING_MODE: Readonly<Record<string, PaddingMode>> = { reflect: 'reflect', edge: 'replicate', wrap: 'circular' };

/**
 * The convolution layer for a Pad node i (mode reflect, edge or wrap) whose output only a Conv reads, with nothing but
 * Constant nodes between them; null for any other Pad. Errors (a Conv that pads again, pads of the channels, pads
 * Conv2d cannot express) name the node that has them.
 */
export function matchPadConv(p: PatternInput): Pattern | null {
  const { nodes, i } = p;
  const pad = nodes[i];
  const out = pad.output?.[0];
  if (pad.opType !== 'Pad' || !out || p.uses.get(out) !== 1) return null;
  let j = i + 1;
  while (j < nodes.length && nodes[j].opType === 'Constant') j++;
  const conv = nodes[j];
  if (conv?.opType !== 'Conv' || conv.input?.[0] !== out) return null;
  const padCtx = p.context(i, p.inShape);
  const read = readOnnxPad(padCtx);
  const mode = Object.prototype.hasOwnProperty.call(PADDING_MODE, read.mode) ? PADDING_MODE[read.mode] : undefined;
  if (mode === undefined) return null; // constant padding: the pad graph op, then the Conv
  if (read.pads[1][0] !== 0 || read.pads[1][1] !== 0)
    throw padCtx.fail(`pads the channels before a Conv; only the spatial axes can be a Conv's ${read.mode} padding`);
  const spatial = read.pads.slice(2);
  const padded = p.inShape.map((d, k) => d + read.pads[k][0] + read.pads[k][1]);
  const layer = convFromOnnx(p.context(j, padded), {
    mode,
    before: spatial.map((s) => s[0]),
    after: spatial.map((s) => s[1]),
  });
  return { end: j, layer, named: conv };
}
