// SPDX-License-Identifier: MIT
// Small PNGs decoded off the event loop, one native job per turn (lib/serve/png-batch-decoder.ts, the addon's
// decodePngsAsync): every colour type and filter bit for bit as on the event loop; corrupt, cut, too long and
// unknown-filter image data (with valid CRCs) arriving in the same turn as good images reject only their own request,
// with the event-loop path's status and message; the good ones get a lone predict()'s answer. Skipped where the build
// has no such job (wasm).
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import { readPngHeader } from '../../lib/data/png';
import { decodePlainPngInto, plainPngParts } from '../../lib/data/png-fast';
import { MAX_PIXELS } from '../../lib/data/image';
import type { LeNet } from '../../lib/modules/lenet';
import { native } from '../../lib/native';
import type { DecodePool } from '../../lib/serve/decode-pool';
import { PngBatchDecoder } from '../../lib/serve/png-batch-decoder';
import { createPredictor, type Predictor } from '../../lib/serve/predictor';
import { imageInput, normalisingTable } from '../../lib/serve/request-input';
import { expectError } from '../native/binding-specs';
import { expectedTop, lenetClassifier, pngImage, prep } from './helpers';

const maybe = PngBatchDecoder.available() ? describe : describe.skip;
const prep3 = { channels: 3 as const, height: 32, width: 32, mean: prep.mean, std: prep.std };

/** A 32x32 PNG of colour type `colorType`, rows filtered with `filterType` (-1: pngjs picks per row). */
function png(seed: number, colorType: 0 | 2 | 4 | 6, filterType = -1): Buffer {
  const image = new PNG({ width: 32, height: 32 });
  for (let i = 0; i < 32 * 32 * 4; i++) image.data[i] = (i * 37 + seed * 101 + ((i * i) % 7)) % 256;
  return PNG.sync.write(image, { colorType, filterType, inputColorType: 6, inputHasAlpha: true });
}

/** `buf` with its chunks rewritten by `edit` (type, data) -> data, every CRC made valid again. */
function rewrite(buf: Buffer, edit: (type: string, data: Buffer) => Buffer): Buffer {
  const parts = [buf.subarray(0, 8)];
  for (let pos = 8; pos < buf.length; ) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = edit(type, buf.subarray(pos + 8, pos + 8 + length));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
    parts.push(head, data, crc);
    pos += 12 + length;
  }
  return Buffer.concat(parts);
}

const idat = (buf: Buffer, f: (data: Buffer) => Buffer) => rewrite(buf, (t, d) => (t === 'IDAT' ? f(d) : d));
/** The image data re-deflated from rows whose filter bytes are `filter`: an unknown filter when above 4. */
const withFilter = (buf: Buffer, filter: number) =>
  idat(buf, (d) => {
    const raw = zlib.inflateSync(d);
    for (let y = 0; y < 32; y++) raw[y * (raw.length / 32)] = filter;
    return zlib.deflateSync(raw);
  });

/** Valid-CRC PNGs whose image data the job cannot decode. */
function badPngs(): Buffer[] {
  const good = png(7, 6);
  return [
    idat(good, (d) => d.subarray(0, d.length - 20)), // cut stream
    idat(good, (d) => Buffer.from(d.map((b, i) => (i > 10 && i < 40 ? b ^ 0x5a : b)))), // corrupt
    idat(good, (d) => zlib.deflateSync(Buffer.concat([zlib.inflateSync(d), Buffer.alloc(33)]))), // too long
    idat(good, (d) => zlib.deflateSync(zlib.inflateSync(d).subarray(0, 4000))), // too short
    idat(good, () => Buffer.from([0x78, 0x9c])), // a header and nothing else
    withFilter(good, 9), // unknown filter
  ];
}

function predictorOf(batchDecode: boolean, model = lenetClassifier().model): Predictor {
  // A pool is needed for the batch path; 32x32 images never reach it (inlinePixels 4096).
  const pool = { decode: () => Promise.reject(new Error('not expected')) } as unknown as DecodePool;
  const classifier = { ...lenetClassifier(), model };
  return createPredictor({
    classifier,
    preprocessing: prep,
    maxPixels: 1 << 24,
    defaultTop: 3,
    pool,
    inlinePixels: 4096,
    hold: null,
    batchDecode,
  });
}

const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (err: { statusCode?: number; message: string; name: string }) => ({
      error: { name: err.name, statusCode: err.statusCode, message: err.message },
    }),
  );

maybe('PngBatchDecoder', () => {
  test('every colour type and row filter decodes bit for bit as decodePlainPngInto, one turn, one job', async () => {
    const table = normalisingTable(prep3);
    const decoder = new PngBatchDecoder(table, 32, 32);
    const bodies: Buffer[] = [];
    for (const colorType of [0, 2, 4, 6] as const) for (let f = -1; f <= 4; f++) bodies.push(png(bodies.length, colorType, f));
    bodies.push(pngImage(32, 32, 3)); // the bench's kind of image
    const got = await Promise.all(
      bodies.map((b) => decoder.decode(plainPngParts(b, readPngHeader(b, 'x', MAX_PIXELS)) as never)),
    );
    bodies.forEach((b, i) => {
      const want = new Float32Array(3 * 32 * 32);
      expect(decodePlainPngInto(b, readPngHeader(b, 'x', MAX_PIXELS), table, want)).toBe(true);
      expect(got[i]).toEqual(want);
    });
  });

  test('image data that does not decode gives null for that image only', async () => {
    const table = normalisingTable(prep3);
    const decoder = new PngBatchDecoder(table, 32, 32);
    const bad = badPngs();
    const bodies = [png(1, 2), ...bad, png(2, 6)];
    const got = await Promise.all(
      bodies.map((b) => decoder.decode(plainPngParts(b, readPngHeader(b, 'x', MAX_PIXELS)) as never)),
    );
    expect(got.map((x) => x === null)).toEqual([false, ...bad.map(() => true), false]);
    expect(got[0]).toEqual(imageInput(bodies[0], 'image/png', prep3, 1 << 24));
    expect(got[bodies.length - 1]).toEqual(imageInput(bodies[bodies.length - 1], 'image/png', prep3, 1 << 24));
  });

  test('good and bad images in one turn: lone predict() answers, and the event-loop path errors, per request', async () => {
    const classifier = lenetClassifier();
    const bad = badPngs();
    const bodies: Buffer[] = [];
    for (let i = 0; i < 24; i++) bodies.push(i % 4 === 1 ? bad[(i >> 2) % bad.length] : png(i, ([0, 2, 4, 6] as const)[i % 4]));
    // Not sent to the job: no PNG at all, and a non-empty IEND (png-fast leaves it to pngjs, which reads it).
    bodies.push(Buffer.from('not a png'), rewrite(png(5, 2), (t, d) => (t === 'IEND' ? Buffer.from('x') : d)));
    const viaBatch = await Promise.all(bodies.map((b) => settle(predictorOf(true, classifier.model)('image/png', b, {}))));
    const inline = await Promise.all(bodies.map((b) => settle(predictorOf(false, classifier.model)('image/png', b, {}))));
    expect(viaBatch).toEqual(inline);
    bodies.forEach((b, i) => {
      if ((i < 24 && i % 4 === 1) || i === 24) {
        expect([i, viaBatch[i]]).toMatchObject([i, { error: { name: 'RequestError', statusCode: 400 } }]);
      } else {
        const input = imageInput(b, 'image/png', prep3, 1 << 24); // also the last: pngjs's result
        expect(viaBatch[i]).toEqual({ value: expectedTop(classifier.model as LeNet, input, 3) });
      }
    });
  });

  test('decodePngsAsync checks its arguments (RangeError, TypeError)', () => {
    const call = native as unknown as {
      decodePngsAsync: (o: unknown, ok: unknown, d: unknown, j: unknown, t: unknown, n: number) => Promise<void>;
    };
    const table = new Float32Array(768);
    const data = new Uint8Array(10);
    const job = (...f: number[]) => Int32Array.from(f);
    const f32 = (n: number) => new Float32Array(n);
    const ok = new Uint8Array(1);
    const cases: [unknown[], 'RangeError' | 'TypeError', RegExp][] = [
      [[f32(3072), ok, data, job(5, 10, 32, 32, 4, 1), table, 1], 'RangeError', /jobs\[0\]: its data lies outside/],
      [[f32(3072), ok, data, job(0, 10, 32, 32, 5, 1), table, 1], 'RangeError', /jobs\[0\]: bpp must be/],
      [[f32(3072), ok, data, job(0, 10, 32, 32, 4, 0), table, 1], 'RangeError', /jobs\[0\]: bpp must be/],
      [[f32(3072), ok, data, job(0, 10, 0, 32, 4, 1), table, 1], 'RangeError', /jobs\[0\]: width and height/],
      [[f32(3071), ok, data, job(0, 10, 32, 32, 4, 1), table, 1], 'RangeError', /out/],
      [[f32(3072), ok, data, job(0, 10, 32, 32, 4, 1), f32(767), 1], 'RangeError', /table/],
      [[f32(3072), ok, data, [0, 10, 32, 32, 4, 1], table, 1], 'TypeError', /jobs must be a.? Int32Array, got Array/],
      [[f32(3072), ok, data, job(0, 10, 32, 32, 4, 1), table, 2], 'RangeError', /jobs/],
    ];
    for (const [args, kind, re] of cases)
      expectError(() => (call.decodePngsAsync as (...a: unknown[]) => unknown)(...args), kind, re);
  });
});
