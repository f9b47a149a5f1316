// SPDX-License-Identifier: MIT
// Request bodies of POST /predict to one model input: PNG or JPEG images preprocessed as `simdnet predict` does them,
// or JSON {"input": [...], "shape": [...]} holding the model input itself. Every problem is a RequestError with a 4xx.
import { MAX_PIXELS, preprocessImage, type DecodedImage, type Preprocess } from '../data/image';
import { decodeJpegBuffer, readJpegHeader, type JpegHeader } from '../data/jpeg';
import { decodePngBuffer, readPngHeader, type PngHeader } from '../data/png';
import { BYTE_UNIT, decodePlainPngInto } from '../data/png-fast';
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

/** An image body's header (size and layout, read without decoding), as imageHeader() returns it. */
export type ImageHeader = PngHeader | JpegHeader;

/**
 * The model input [C, H, W] from an image body: decoded by lib/data/image's PNG or JPEG reader (bombs refused from
 * the headers), converted to the model's channels, resized and normalised (preprocessImage, as `simdnet predict`).
 * Images with more than `maxPixels` pixels are refused (413) from their header, before decoding. `header` is the body's
 * imageHeader() when the caller has read it (the header is then not read again). `out` (C*H*W floats), when given, may
 * take the result, which is then `out` itself (the one-pass decode of a plain PNG); other images get a new array.
 *
 * @example
 * const x = imageInput(body, 'image/png', { channels: 3, height: 32, width: 32, mean, std }, 1 << 24);
 */
export function imageInput(
  body: Buffer,
  type: 'image/png' | 'image/jpeg',
  prep: Preprocess,
  maxPixels: number,
  header?: ImageHeader,
  out?: Float32Array,
): Float32Array {
  let image: DecodedImage;
  try {
    const h = header ?? readHeader(body, type);
    if (h.width * h.height > maxPixels)
      throw new RequestError(413, `the image has ${h.width * h.height} pixels; this server takes at most ${maxPixels}`);
    // A plain PNG of the model's size: decoded and normalised in one pass (preprocessImage would only normalise it).
    if (type === 'image/png' && prep.channels === 3 && h.width === prep.width && h.height === prep.height) {
      const size = 3 * h.width * h.height;
      const input = out !== undefined && out.length === size ? out : new Float32Array(size);
      if (decodePlainPngInto(body, h as PngHeader, normalisingTable(prep), input)) return input;
    }
    image =
      type === 'image/png'
        ? decodePngBuffer(body, 'request body', maxPixels, h as PngHeader)
        : decodeJpegBuffer(body, 'request body', maxPixels, h as JpegHeader);
  } catch (err) {
    if (err instanceof RequestError) throw err;
    throw new RequestError(400, `undecodable image: ${(err as Error).message}`);
  }
  return preprocessImage(image, prep);
}

/** Per preprocessing, (v / 255 - mean[c]) / std[c] for each byte v and channel c: preprocessImage's arithmetic. */
const normalisingTables = new WeakMap<Preprocess, Float32Array>();

function normalisingTable(prep: Preprocess): Float32Array {
  let table = normalisingTables.get(prep);
  if (table === undefined) {
    table = new Float32Array(768);
    for (let c = 0; c < 3; c++)
      for (let v = 0; v < 256; v++) table[256 * c + v] = (BYTE_UNIT[v] - prep.mean[c]) / prep.std[c];
    normalisingTables.set(prep, table);
  }
  return table;
}

function readHeader(body: Buffer, type: 'image/png' | 'image/jpeg'): ImageHeader {
  return type === 'image/png'
    ? readPngHeader(body, 'request body', MAX_PIXELS)
    : readJpegHeader(body, 'request body', MAX_PIXELS);
}

/**
 * An image body's header (cheap: no decoding; its width x height is the pixel count), or null when it cannot be read
 * (imageInput() then gives the error).
 */
export function imageHeader(body: Buffer, type: 'image/png' | 'image/jpeg'): ImageHeader | null {
  try {
    return readHeader(body, type);
  } catch {
    return null;
  }
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
