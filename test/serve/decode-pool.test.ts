// SPDX-License-Identifier: MIT
// The image-decoding worker pool of `simdnet serve`: answers equal imageInput() on the calling thread, errors stay with
// their request, a full pool refuses with a 503 at once, and close() lets every accepted image finish. Every test
// submits its images synchronously, before any answer can arrive (answers are messages, taken in later event-loop
// turns), so none depends on how fast the threads run.
import * as jpeg from 'jpeg-js';
import { datasetPreprocessing } from '../../lib/cli/predict';
import { DecodePool } from '../../lib/serve/decode-pool';
import { imageInput, RequestError } from '../../lib/serve/request-input';
import { pngImage } from './helpers';

const stats = datasetPreprocessing('cifar10', 3, 10);
const prep = { channels: 3 as const, height: 32, width: 32, mean: stats.mean, std: stats.std };
const maxPixels = 100 * 100;
const png = (seed: number) => pngImage(40, 24, seed);
const expected = (body: Buffer, type: 'image/png' | 'image/jpeg' = 'image/png') =>
  imageInput(body, type, prep, maxPixels);

/** A PNG whose header claims 1000 x 1000 pixels (refused before decoding). */
function hugePng(): Buffer {
  const b = pngImage(8, 8);
  b.writeUInt32BE(1000, 16);
  b.writeUInt32BE(1000, 20);
  return b;
}

/** What a promise settles to, without throwing. */
function outcome<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('DecodePool', () => {
  // One pool for the tests that do not stop it (each thread transpiles lib/ when run from TypeScript: slow to start).
  let shared: DecodePool;
  beforeAll(() => (shared = new DecodePool({ threads: 2, maxQueue: 64, prep, maxPixels })));
  afterAll(() => shared.close());

  test('decodes PNG and JPEG bodies exactly as imageInput() on the calling thread', async () => {
    const pool = shared;
    const bodies = Array.from({ length: 12 }, (_, i) => png(i));
    const answers = await Promise.all(bodies.map((b) => pool.decode(b, 'image/png')));
    answers.forEach((a, i) => expect(a).toEqual(expected(bodies[i])));
    const data = Buffer.alloc(32 * 32 * 4, 77);
    const jpg = jpeg.encode({ width: 32, height: 32, data }, 90).data;
    expect(await pool.decode(jpg, 'image/jpeg')).toEqual(expected(jpg, 'image/jpeg'));
    expect(pool.size).toBe(0);
  });

  test('the images of one event-loop turn go to the threads in one message per thread', async () => {
    const pool = new DecodePool({ threads: 2, maxQueue: 64, prep, maxPixels });
    try {
      const { threads } = pool as unknown as { threads: { worker: import('worker_threads').Worker }[] };
      const posted = threads.map((t) => jest.spyOn(t.worker, 'postMessage'));
      const bodies = Array.from({ length: 9 }, (_, i) => png(i));
      const answers = await Promise.all(bodies.map((b) => pool.decode(b, 'image/png')));
      answers.forEach((a, i) => expect(a).toEqual(expected(bodies[i])));
      expect(posted.map((spy) => spy.mock.calls.length)).toEqual([1, 1]);
      const sent = posted.map((spy) => (spy.mock.calls[0][0] as { ids: number[] }).ids.length);
      expect(sent.sort()).toEqual([4, 5]);
      // A later turn is a new message.
      expect(await pool.decode(bodies[0], 'image/png')).toEqual(expected(bodies[0]));
      expect(posted.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBe(3);
    } finally {
      await pool.close();
    }
  });

  test('a view into a larger buffer sends only its own bytes', async () => {
    const pool = shared;
    const body = png(3);
    const framed = Buffer.concat([Buffer.from('junk before'), body, Buffer.from('junk after')]);
    const view = framed.subarray(11, 11 + body.length);
    expect(await pool.decode(view, 'image/png')).toEqual(expected(body));
    expect(framed.subarray(11, 11 + body.length).equals(body)).toBe(true); // the caller's bytes are untouched
  });

  test('errors stay with their request: undecodable 400, too many pixels 413, the others answered', async () => {
    const pool = shared;
    const good = [png(1), png(2), png(3)];
    const results = await Promise.all([
      outcome(pool.decode(good[0], 'image/png')),
      outcome(pool.decode(Buffer.from('not a png at all'), 'image/png')),
      outcome(pool.decode(good[1], 'image/png')),
      outcome(pool.decode(hugePng(), 'image/png')),
      outcome(pool.decode(Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2]), 'image/jpeg')),
      outcome(pool.decode(good[2], 'image/png')),
    ]);
    expect(results[0].value).toEqual(expected(good[0]));
    expect(results[2].value).toEqual(expected(good[1]));
    expect(results[5].value).toEqual(expected(good[2]));
    for (const [i, status, message] of [
      [1, 400, /^undecodable image: /],
      [3, 413, /1000000 pixels/],
      [4, 400, /^undecodable image: /],
    ] as const) {
      const err = results[i].error;
      expect(err).toBeInstanceOf(RequestError);
      expect((err as RequestError).statusCode).toBe(status);
      expect((err as RequestError).message).toMatch(message);
    }
  });

  test('a full pool refuses at once with a 503 and accepts again once answers free room', async () => {
    const pool = new DecodePool({ threads: 1, maxQueue: 3, prep, maxPixels });
    try {
      const accepted = [0, 1, 2].map((i) => outcome(pool.decode(png(i), 'image/png')));
      const refused = await outcome(pool.decode(png(9), 'image/png'));
      expect(refused.error).toBeInstanceOf(RequestError);
      expect((refused.error as RequestError).statusCode).toBe(503);
      expect((refused.error as RequestError).message).toMatch(/busy/);
      const results = await Promise.all(accepted);
      results.forEach((r, i) => expect(r.value).toEqual(expected(png(i))));
      expect(await pool.decode(png(9), 'image/png')).toEqual(expected(png(9)));
    } finally {
      await pool.close();
    }
  });

  test('close() refuses new images and resolves only after every accepted one is answered', async () => {
    const pool = new DecodePool({ threads: 1, maxQueue: 64, prep, maxPixels });
    const events: string[] = [];
    const decodes = Array.from({ length: 8 }, (_, i) =>
      pool.decode(png(i), 'image/png').then((input) => {
        events.push(`decoded ${i}`);
        return input;
      }),
    );
    const closed = pool.close().then(() => events.push('closed'));
    const late = await outcome(pool.decode(png(0), 'image/png'));
    expect((late.error as RequestError).statusCode).toBe(503);
    expect((late.error as RequestError).message).toMatch(/shutting down/);
    const inputs = await Promise.all(decodes);
    await closed;
    inputs.forEach((input, i) => expect(input).toEqual(expected(png(i))));
    expect(events).toHaveLength(9);
    expect(events[8]).toBe('closed');
  });

  test('a thread that stops rejects only its unanswered images with an error and is replaced', async () => {
    const pool = new DecodePool({ threads: 1, maxQueue: 8, prep, maxPixels });
    try {
      await pool.decode(png(1), 'image/png'); // the thread has started and answered
      const pending = outcome(pool.decode(png(2), 'image/png'));
      const { worker } = (pool as unknown as { threads: { worker: import('worker_threads').Worker }[] }).threads[0];
      await worker.terminate();
      const r = await pending;
      // Either the answer came before the thread stopped, or the image is rejected naming the cause.
      if (r.error !== undefined) expect((r.error as Error).message).toMatch(/decoding thread stopped/);
      else expect(r.value).toEqual(expected(png(2)));
      expect(pool.size).toBe(0);
      expect(await pool.decode(png(3), 'image/png')).toEqual(expected(png(3)));
    } finally {
      await pool.close();
    }
  });

  test('options are checked', () => {
    expect(() => new DecodePool({ threads: 0, maxQueue: 1, prep, maxPixels })).toThrow(RangeError);
    expect(() => new DecodePool({ threads: 1, maxQueue: 0, prep, maxPixels })).toThrow(/maxQueue/);
    expect(() => new DecodePool({ threads: 1.5, maxQueue: 1, prep, maxPixels })).toThrow(/threads/);
  });
});
