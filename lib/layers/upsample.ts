// SPDX-License-Identifier: MIT
// Upsample: spec type, MACs, ONNX Resize both ways (the coordinate transformation modes torch.onnx.export writes) and
// the program's upsample op.
import { float32Decimal, list, q, type NodeContext } from '../io/onnx-import-proto';
import { MAX_FIELD, OP } from '../modules/program-code';
import { Upsample, UPSAMPLE_OPTIONS, type UpsampleOptions } from '../modules/upsample';
import { shapeSize } from '../tensor/shape';
import { layerKind } from './kind';
import { directSpec } from './spec';

/**
 * Resize of [N, C, H, W] as Upsample: mode nearest with coordinate_transformation_mode asymmetric and nearest_mode
 * floor (PyTorch's nearest), or mode linear with half_pixel (pytorch_half_pixel too, but for 1-pixel outputs) or
 * align_corners; scales [1, 1, sh, sw] or sizes [N, C, oh, ow] (constant, or folded from the input's shape).
 */
function resizeFromOnnx(ctx: NodeContext): Upsample {
  ctx.allowAttributes([
    'mode',
    'coordinate_transformation_mode',
    'nearest_mode',
    'cubic_coeff_a',
    'exclude_outside',
    'extrapolation_value',
    'antialias',
    'keep_aspect_ratio_policy',
  ]);
  ctx.expectRank(4, 'simdnet imports Resize of [N, C, H, W] (as Upsample) only');
  if (ctx.opset < 11) throw ctx.fail('Resize before opset 11 (scales only, no coordinate modes) is not supported');
  const mode = ctx.string('mode', 'nearest');
  const transform = ctx.string('coordinate_transformation_mode', 'half_pixel');
  if (ctx.int('exclude_outside', 0) !== 0) throw ctx.fail('exclude_outside 1 is not supported');
  if (ctx.int('antialias', 0) !== 0) throw ctx.fail('antialias 1 is not supported');
  if (ctx.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch')
    throw ctx.fail('keep_aspect_ratio_policy other than stretch is not supported');
  const roi = ctx.inputName(1);
  if (roi !== undefined && (ctx.constant(1, 'roi')?.dims.reduce((a, b) => a * b, 1) ?? 0) !== 0)
    throw ctx.fail('a non-empty roi (tf_crop_and_resize) is not supported');
  const scales = ctx.constant(2, 'scales');
  const sizes = ctx.inputName(3) === undefined ? undefined : ctx.constant(3, 'sizes', [4], true);
  const [h, w] = [ctx.inShape[2], ctx.inShape[3]];
  let options: UpsampleOptions;
  if (sizes !== undefined) {
    if (scales !== undefined && scales.dims.reduce((a, b) => a * b, 1) !== 0)
      throw ctx.fail('has both scales and sizes');
    if (sizes.int === undefined) throw ctx.fail(`sizes ${q(sizes.name)} must be int64`);
    if (!sizes.batch?.[0] && sizes.int[0] !== ctx.inShape[0] && ctx.inputBatch !== undefined)
      throw ctx.fail(`sizes ${list(sizes.int)} change the batch`);
    if (sizes.int[1] !== ctx.inShape[1]) throw ctx.fail(`sizes ${list(sizes.int)} change the channels`);
    options = { size: [sizes.int[2], sizes.int[3]] };
  } else {
    if (scales?.float === undefined || scales.float.length !== 4)
      throw ctx.fail('needs scales (4 floats) or sizes (4 ints)');
    // The shortest decimal of each float32 (1.7, not 1.7000000476837158), as the exporting model's scale factor.
    const s = Array.from(scales.float, float32Decimal);
    if (s[0] !== 1 || s[1] !== 1) throw ctx.fail(`scales ${list(s)} resize the batch or channels`);
    options = { scaleFactor: [s[2], s[3]] };
  }
  if (mode === 'nearest') {
    if (transform !== 'asymmetric' || ctx.string('nearest_mode', 'round_prefer_floor') !== 'floor') {
      throw ctx.fail(
        `nearest with coordinate_transformation_mode ${transform} and nearest_mode ${ctx.string('nearest_mode', 'round_prefer_floor')}: ` +
          "simdnet's (PyTorch's) nearest is asymmetric with nearest_mode floor",
      );
    }
  } else if (mode === 'linear') {
    const out = new Upsample({ ...options, mode: 'bilinear' }).outputShape([1, 1, h, w]);
    const halfPixel = transform === 'half_pixel' || (transform === 'pytorch_half_pixel' && out[2] > 1 && out[3] > 1);
    if (!halfPixel && transform !== 'align_corners')
      throw ctx.fail(
        `linear with coordinate_transformation_mode ${transform} is not supported (half_pixel or align_corners)`,
      );
    options = { ...options, mode: 'bilinear', alignCorners: transform === 'align_corners' };
  } else {
    throw ctx.fail(`mode ${q(mode)} is not supported (nearest or linear)`);
  }
  try {
    return new Upsample(options);
  } catch (e) {
    throw ctx.fail((e as Error).message);
  }
}

export const upsampleKind = layerKind<Upsample>({
  module: Upsample,
  spec: [directSpec('upsample', UPSAMPLE_OPTIONS, (o) => new Upsample(o as unknown as UpsampleOptions))],
  /** Nearest copies (0 MACs, as pooling's comparisons); bilinear weighs 4 inputs per output value (4 MACs each). */
  macs: (layer, _in, out) => (layer.mode === 'bilinear' ? 4 * shapeSize(out) : 0),
  toOnnx: (layer, ctx) => {
    ctx.rank(4, '[N, C, H, W]');
    const attrs: Record<string, string> =
      layer.mode === 'nearest'
        ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
        : { mode: 'linear', coordinate_transformation_mode: layer.alignCorners ? 'align_corners' : 'half_pixel' };
    if (layer.scaleFactor) {
      const scales = ctx.g.floatInit(`${ctx.nodeName}.onnx_scales`, Float32Array.of(1, 1, ...layer.scaleFactor), [4]);
      return ctx.node('Resize', [ctx.x, '', scales], attrs);
    }
    // sizes = [N, C] of the input (N is dynamic) then the output size, as torch.onnx.export writes it.
    const shape = ctx.node('Shape', [ctx.x], {}, '_shape');
    const starts = ctx.g.int64Init(`${ctx.nodeName}.onnx_starts`, [0]);
    const ends = ctx.g.int64Init(`${ctx.nodeName}.onnx_ends`, [2]);
    const batchChannels = ctx.node('Slice', [shape, starts, ends], {}, '_slice');
    const size = ctx.g.int64Init(`${ctx.nodeName}.onnx_size`, [...layer.size!]);
    const sizes = ctx.node('Concat', [batchChannels, size], { axis: 0 }, '_sizes');
    return ctx.node('Resize', [ctx.x, '', '', sizes], attrs);
  },
  fromOnnx: { Resize: resizeFromOnnx },
  // The program has no field for a scale factor (a double): the op runs with the size-based ratio, which is the same
  // when float(1 / scale) == float(in / out) on both axes (scale 2 of any size, size-given layers); otherwise the layer
  // predicts in JavaScript.
  program: (layer, p) => {
    const [, c, h, w] = p.inShape;
    const [oh, ow] = [p.outShape[2], p.outShape[3]];
    const f = Math.fround;
    // PyTorch's nearest copies when out == in and halves when out == 2 in, whatever the scale; bilinear copies when
    // out == in; align_corners ignores the scale.
    const nearest = layer.mode === 'nearest';
    const sameRatio = (s: number, i: number, o: number) =>
      o === i || (nearest && o === 2 * i) || layer.alignCorners || f(1 / s) === f(i / o);
    if (layer.scaleFactor && !(sameRatio(layer.scaleFactor[0], h, oh) && sameRatio(layer.scaleFactor[1], w, ow)))
      return false;
    if (oh > MAX_FIELD || ow > MAX_FIELD) return false;
    p.emit(OP.upsample, c, h, w, oh, ow, layer.mode === 'bilinear' ? 1 : 0, layer.alignCorners ? 1 : 0);
    return true;
  },
});
