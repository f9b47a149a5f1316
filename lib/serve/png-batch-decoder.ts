// SPDX-License-Identifier: MIT
// Small plain PNGs decoded off the event loop without a message per image: the ones that arrive in one event-loop turn
// go to one native job (the addon's decodePngsAsync, on a libuv thread), which inflates and unfilters them all into one
// array. The event loop keeps the cheap checks (header, chunk layout, CRCs: plainPngParts) and whatever the job could
// not decode. Not in the wasm build (no zlib there): available() is false and the caller decodes on the event loop.
import type { PlainPngParts } from '../data/png-fast';
import { native } from '../native';

interface Waiting {
  parts: PlainPngParts;
  resolve: (input: Float32Array | null) => void;
}

type DecodePngsAsync = (
  out: Float32Array,
  ok: Uint8Array,
  data: Uint8Array,
  jobs: Int32Array,
  table: Float32Array,
  n: number,
) => Promise<void>;

/** The addon's batch decode, when this build has it (native builds that found node's zlib.h). */
const decodePngsAsync = (native as unknown as { decodePngsAsync?: DecodePngsAsync }).decodePngsAsync;

/**
 * Decodes plain PNGs of one size (`width` x `height`, their samples through `table`, as decodePlainPngInto() takes
 * them) in one native job per event-loop turn. decode() resolves to the model input [3, height, width] (a view of the
 * turn's array: the images of a turn share one allocation), or null when the image data does not inflate to exactly
 * the header's rows or holds an unknown row filter: the caller then decodes it on the event loop, which gives the
 * same error (or pngjs's result) as before. One image's failure never touches another's.
 *
 * @example
 * const decoder = new PngBatchDecoder(table, 32, 32);
 * const input = (await decoder.decode(plainPngParts(body, header))) ?? imageInput(body, 'image/png', prep, maxPixels);
 */
export class PngBatchDecoder {
  /** Whether this build can decode off the event loop (false on wasm). */
  static available(): boolean {
    return decodePngsAsync !== undefined;
  }

  private waiting: Waiting[] = [];
  private readonly size: number;

  constructor(
    private readonly table: Float32Array,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.size = 3 * width * height;
  }

  decode(parts: PlainPngParts): Promise<Float32Array | null> {
    return new Promise((resolve) => {
      if (this.waiting.push({ parts, resolve }) === 1) setImmediate(() => this.flush());
    });
  }

  /** One job for the images of this turn: their data copied into one buffer (the job reads it on its thread). */
  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    const n = batch.length;
    let bytes = 0;
    for (const w of batch) bytes += w.parts.data.length;
    const data = new Uint8Array(bytes);
    const jobs = new Int32Array(6 * n);
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const { data: part, bpp, color } = batch[i].parts;
      data.set(part, offset);
      jobs.set([offset, part.length, this.width, this.height, bpp, color], 6 * i);
      offset += part.length;
    }
    const out = new Float32Array(n * this.size);
    const ok = new Uint8Array(n);
    let pending: Promise<void>;
    try {
      pending = (decodePngsAsync as DecodePngsAsync)(out, ok, data, jobs, this.table, n);
    } catch {
      pending = Promise.reject(new Error('decodePngsAsync refused the batch'));
    }
    pending.then(
      () => {
        for (let i = 0; i < n; i++) batch[i].resolve(ok[i] === 1 ? out.subarray(i * this.size, (i + 1) * this.size) : null);
      },
      // Never expected (the arguments are checked above); the event loop then decodes them all as before.
      () => {
        for (const w of batch) w.resolve(null);
      },
    );
  }
}
