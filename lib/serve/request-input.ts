// SPDX-License-Identifier: MIT
// Request bodies of POST /predict to one model input: PNG or JPEG images preprocessed as `simdnet predict` does them,
// or JSON {"input": [...], "shape": [...]} holding the model input itself. Every problem is a RequestError with a 4xx.
import * as jpeg from 'jpeg-js';
import { decodePng, preprocessImage, type DecodedImage, type Preprocess } from '../cli/image';
import { formatShape } from '../tensor/shape';

/** A client error: the HTTP status to answer with and a message for the client. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** PNG's signature and where IHDR keeps the width and height (big-endian). */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The model input [C, H, W] from an image body: decoded (PNG with lib/cli/image.ts, JPEG with jpeg-js), converted to the
 * model's channels, resized bilinearly and normalised (preprocessImage, as `simdnet predict`). Images with more than
 * `maxPixels` pixels are refused from their header, before decoding.
 *
 * @example
 * const x = imageInput(body, 'image/png', { channels: 3, height: 32, width: 32, mean, std }, 1 << 24);
 */
export function imageInput(
  body: Buffer,
  type: 'image/png' | 'image/jpeg',
  prep: Preprocess,
  maxPixels: number,
): Float32Array {
  const image = type === 'image/png' ? decodePngBody(body, maxPixels) : decodeJpegBody(body, maxPixels);
  return preprocessImage(image, prep);
}

function decodePngBody(body: Buffer, maxPixels: number): DecodedImage {
  if (body.length >= 24 && body.subarray(0, 8).equals(PNG_SIGNATURE)) {
    const pixels = body.readUInt32BE(16) * body.readUInt32BE(20);
    if (pixels > maxPixels)
      throw new RequestError(413, `the image has ${pixels} pixels; this server takes at most ${maxPixels}`);
  }
  try {
    return decodePng(body, 'request body');
  } catch (err) {
    throw new RequestError(400, `undecodable image: ${(err as Error).message}`);
  }
}

/** A JPEG body as DecodedImage (RGB planes in [0, 1]); jpeg-js refuses images over the pixel cap from their header. */
function decodeJpegBody(body: Buffer, maxPixels: number): DecodedImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(body, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6 });
  } catch (err) {
    const message = (err as Error).message;
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message))
      throw new RequestError(413, `the image is too large to decode here (${message}; at most ${maxPixels} pixels)`);
    throw new RequestError(400, `undecodable image: not a valid JPEG (${message})`);
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0)) throw new RequestError(400, 'undecodable image: the JPEG has no pixels');
  const plane = width * height;
  const rgb = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) rgb[c * plane + i] = data[4 * i + c] / 255;
  return { width, height, rgb, gray: false, depth: 8, alpha: false };
}

/**
 * The model input from a JSON body {"input": [numbers], "shape": [C, H, W] or [1, C, H, W]}: `shape` must be the model's
 * input shape and `input` hold exactly that many finite numbers (already preprocessed: they go to the model as they are).
 *
 * @example
 * jsonInput({ input: new Array(3072).fill(0), shape: [3, 32, 32] }, [3, 32, 32]);
 */
export function jsonInput(body: unknown, sampleShape: readonly number[]): Float32Array {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RequestError(400, 'the JSON body must be an object {"input": [...], "shape": [...]}');
  const { input, shape } = body as { input?: unknown; shape?: unknown };
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new RequestError(400, '"shape" must be an array of non-negative integers');
  const dims = shape.length === sampleShape.length + 1 && shape[0] === 1 ? shape.slice(1) : shape;
  if (dims.length !== sampleShape.length || dims.some((d, i) => d !== sampleShape[i])) {
    throw new RequestError(
      400,
      `"shape" ${formatShape(shape)} does not match the model input ${formatShape(sampleShape)} (or ${formatShape([1, ...sampleShape])})`,
    );
  }
  const size = sampleShape.reduce((a, b) => a * b, 1);
  if (!Array.isArray(input) || input.length !== size)
    throw new RequestError(400, `"input" must be an array of ${size} numbers (the product of "shape")`);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v: unknown = input[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RequestError(400, `"input"[${i}] must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
    out[i] = v;
  }
  return out;
}
