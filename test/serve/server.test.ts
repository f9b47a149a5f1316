// SPDX-License-Identifier: MIT
// The HTTP server of `simdnet serve`, in-process through fastify's inject (no sockets): answers equal a lone predict()
// of the same preprocessed input, every bad request gets a 4xx with a message, and /metrics is valid Prometheus text.
import type { AddressInfo } from 'net';
import * as jpeg from 'jpeg-js';
import type { Classifier } from '../../lib/cli/classifier';
import { preprocessImage, decodePng } from '../../lib/data/image';
import { LeNet } from '../../lib/modules/lenet';
import { createServer, type ModelServer } from '../../lib/serve/server';
import { expectedTop, lenetClassifier, pngImage, prep, request } from './helpers';

describe('simdnet serve endpoints', () => {
  let server: ModelServer;
  let classifier: Classifier;
  let port: number;
  beforeAll(async () => {
    classifier = lenetClassifier();
    server = createServer({ classifier, preprocessing: prep, bodyLimit: 64 * 1024, maxPixels: 100 * 100 });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());
  const post = (type: string, payload: string | Buffer, url = '/predict') => request(port, 'POST', url, type, payload);

  test('GET /health answers 200', async () => {
    const r = await request(port, 'GET', '/health');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', model: 'LeNet' });
  });

  test('a PNG is preprocessed as simdnet predict does and answered as a lone predict()', async () => {
    const png = pngImage(40, 24, 1); // resized to 32x32
    const r = await post('image/png', png);
    expect(r.status).toBe(200);
    const input = preprocessImage(decodePng(png), {
      channels: 3,
      height: 32,
      width: 32,
      mean: prep.mean,
      std: prep.std,
    });
    expect(r.json()).toEqual({ top: expectedTop(classifier.model as LeNet, input, 5) });
  });

  test('a JPEG body is decoded and answered', async () => {
    const data = Buffer.alloc(32 * 32 * 4, 128);
    const body = jpeg.encode({ width: 32, height: 32, data }, 90).data;
    const r = await post('image/jpeg', body);
    expect(r.status).toBe(200);
    expect(r.json().top).toHaveLength(5);
  });

  test('JSON input with shape [C,H,W] or [1,C,H,W], and ?top=k', async () => {
    const input = Array.from({ length: 3072 }, (_, i) => Math.sin(i));
    const expected = expectedTop(classifier.model as LeNet, Float32Array.from(input), 3);
    for (const shape of [
      [3, 32, 32],
      [1, 3, 32, 32],
    ]) {
      const r = await post('application/json', JSON.stringify({ input, shape }), '/predict?top=3');
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ top: expected });
    }
  });

  test('concurrent requests each get their own answer', async () => {
    const inputs = Array.from({ length: 24 }, (_, k) => Array.from({ length: 3072 }, (_, i) => Math.cos(i * (k + 1))));
    const answers = await Promise.all(
      inputs.map((input) => post('application/json', JSON.stringify({ input, shape: [3, 32, 32] }), '/predict?top=2')),
    );
    answers.forEach((r, k) => {
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ top: expectedTop(classifier.model as LeNet, Float32Array.from(inputs[k]), 2) });
    });
  });

  const big = Buffer.alloc(70 * 1024, 1);
  const hugePng = pngImage(8, 8);
  hugePng.writeUInt32BE(1000, 16); // IHDR claims 1000 x 1000 pixels
  hugePng.writeUInt32BE(1000, 20);
  const ok = JSON.stringify({ input: new Array(3072).fill(0), shape: [3, 32, 32] });
  test.each([
    ['no content type', '', 'x', 415, /content.type/i],
    ['an unsupported content type', 'text/csv', 'a,b', 415, /unsupported|media type/i],
    ['a body over the size limit', 'image/png', big, 413, /too large|limit/i],
    ['an undecodable PNG', 'image/png', Buffer.from('not a png at all, really'), 400, /undecodable image/],
    ['a truncated PNG', 'image/png', pngImage(16, 16).subarray(0, 60), 400, /undecodable image/],
    ['a PNG over the pixel limit', 'image/png', hugePng, 413, /pixels/],
    ['an undecodable JPEG', 'image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 3]), 400, /undecodable image/],
    ['invalid JSON', 'application/json', '{"input": [1, 2', 400, /JSON/i],
    ['a JSON array', 'application/json', '[1, 2]', 400, /must be an object/],
    ['a wrong shape', 'application/json', JSON.stringify({ input: [1, 2], shape: [1, 2] }), 400, /does not match/],
    ['a missing shape', 'application/json', JSON.stringify({ input: [1] }), 400, /"shape"/],
    [
      'too few values',
      'application/json',
      JSON.stringify({ input: [1, 2], shape: [3, 32, 32] }),
      400,
      /array of 3072 numbers/,
    ],
    [
      'a non-number value',
      'application/json',
      JSON.stringify({ input: ['x', ...new Array(3071).fill(0)], shape: [3, 32, 32] }),
      400,
      /finite number/,
    ],
  ] as const)('%s gets a 4xx with a message', async (_, type, body, status, message) => {
    const r = await post(type, body);
    expect(r.status).toBe(status);
    expect(r.json().error).toMatch(message);
  });

  test.each([
    ['?top=0', 400],
    ['?top=11', 400],
    ['?top=abc', 400],
    ['?top=10', 200],
  ])('%s gets %i', async (query, status) => {
    const r = await post('application/json', ok, `/predict${query}`);
    expect(r.status).toBe(status);
  });

  test('unknown routes and methods get 404 with a message', async () => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/predict'],
    ] as const) {
      const r = await request(port, method, url);
      expect(r.status).toBe(404);
      expect(r.json().error).toMatch(/POST \/predict/);
    }
  });

  test('GET /metrics is Prometheus text: counters, the in-flight gauge and cumulative histograms', async () => {
    await post('application/json', ok);
    await post('text/csv', 'x');
    const r = await request(port, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = new Map<string, number>();
    for (const line of r.body.trimEnd().split('\n')) {
      if (line.startsWith('#')) {
        expect(line).toMatch(/^# (HELP \w+ .+|TYPE \w+ (counter|gauge|histogram))$/);
        continue;
      }
      const m = /^(\w+(?:\{\w+="[^"]*"\})?) (\S+)$/.exec(line);
      expect([line, m !== null]).toEqual([line, true]);
      samples.set((m as RegExpExecArray)[1], Number((m as RegExpExecArray)[2]));
    }
    const ok200 = samples.get('simdnet_requests_total{code="200"}') as number;
    expect(ok200).toBeGreaterThanOrEqual(1);
    expect(samples.get('simdnet_requests_total{code="415"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('simdnet_requests_in_flight')).toBe(0);
    const total = [...samples].filter(([k]) => k.startsWith('simdnet_requests_total')).reduce((n, [, v]) => n + v, 0);
    const errors = total - ok200;
    expect(samples.get('simdnet_request_errors_total')).toBe(errors);
    for (const h of ['simdnet_request_duration_seconds', 'simdnet_batch_size', 'simdnet_batch_duration_seconds']) {
      const buckets = [...samples].filter(([k]) => k.startsWith(`${h}_bucket`)).map(([, v]) => v);
      expect(buckets.every((v, i) => i === 0 || v >= buckets[i - 1])).toBe(true);
      expect(buckets[buckets.length - 1]).toBe(samples.get(`${h}_count`));
    }
    expect(samples.get('simdnet_request_duration_seconds_count')).toBe(total);
    // Every image answered went through a batch.
    expect(samples.get('simdnet_batch_size_sum')).toBeGreaterThanOrEqual(ok200);
  });
});

describe('simdnet serve image decoding in worker threads', () => {
  test('on close, held requests go to a decode pool of 4: 4 are answered 200, 2 get 503, then the pool stops', async () => {
    // The hook holds every /predict request until close() begins; then all six reach the pool in one event-loop turn,
    // before any decode can answer, so exactly four fit (decodeQueue 4) whatever the threads' speed.
    const classifier = lenetClassifier();
    const server = createServer({
      classifier,
      preprocessing: prep,
      decodeThreads: 1,
      decodeQueue: 4,
      inlineDecodePixels: 0, // every image goes to the pool
      holdUntilClose: true,
    });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    const bodies = Array.from({ length: 6 }, (_, i) => pngImage(32, 32, i));
    const answers = bodies.map((b) => request(port, 'POST', '/predict', 'image/png', b));
    while (server.metrics.requestsInFlight < 6) await new Promise((r) => setTimeout(r, 10));
    const events: string[] = [];
    const tracked = answers.map((a) => a.then((r) => (events.push(`answered ${r.status}`), r)));
    await server.close().then(() => events.push('closed'));
    const results = await Promise.all(tracked);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 503, 503]);
    for (const r of results.filter((x) => x.status === 503)) {
      expect(r.json().error).toMatch(/busy/);
      expect(r.headers['retry-after']).toBe('1');
    }
    for (const [i, r] of results.entries()) {
      if (r.status !== 200) continue;
      const input = preprocessImage(decodePng(bodies[i]), { channels: 3, height: 32, width: 32, ...prep });
      expect(r.json()).toEqual({ top: expectedTop(classifier.model as LeNet, input, 5) });
    }
    expect(events[events.length - 1]).toBe('closed'); // every request was answered before close() resolved
  });

  test('decodeThreads and decodeQueue are checked', () => {
    const make = (o: object) => () => createServer({ classifier: lenetClassifier(), preprocessing: prep, ...o });
    expect(make({ decodeThreads: -1 })).toThrow(/decodeThreads must be an integer >= 0/);
    expect(make({ decodeThreads: 1.5 })).toThrow(RangeError);
    expect(make({ decodeQueue: 0 })).toThrow(/decodeQueue must be an integer >= 1/);
    expect(make({ inlineDecodePixels: -1 })).toThrow(/inlineDecodePixels must be an integer >= 0/);
  });

  test('images up to inlineDecodePixels skip the pool: held small ones all pass a full pool, large ones get 503', async () => {
    // decodeQueue 1: of three large images released in one event-loop turn, one fits in the pool; the three small
    // ones (32x32 = 1024 pixels, at most the default 4096) are decoded on the event loop thread and never queue.
    const classifier = lenetClassifier();
    const server = createServer({
      classifier,
      preprocessing: prep,
      decodeThreads: 1,
      decodeQueue: 1,
      holdUntilClose: true,
    });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    const bodies = [pngImage(32, 32, 1), pngImage(80, 80, 2), pngImage(32, 32, 3), pngImage(80, 80, 4)];
    bodies.push(pngImage(80, 80, 5), pngImage(32, 32, 6));
    const answers = bodies.map((b) => request(port, 'POST', '/predict', 'image/png', b));
    while (server.metrics.requestsInFlight < 6) await new Promise((r) => setTimeout(r, 10));
    await server.close();
    const results = await Promise.all(answers);
    const small = [0, 2, 5].map((i) => results[i]);
    const large = [1, 3, 4].map((i) => results[i].status);
    expect(large.sort()).toEqual([200, 503, 503]);
    for (const i of [0, 2, 5]) {
      const input = preprocessImage(decodePng(bodies[i]), { channels: 3, height: 32, width: 32, ...prep });
      expect(results[i].json()).toEqual({ top: expectedTop(classifier.model as LeNet, input, 5) });
    }
    expect(small.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test('decodeThreads 0 decodes on the event loop thread with the same answers and errors', async () => {
    const classifier = lenetClassifier();
    const server = createServer({ classifier, preprocessing: prep, decodeThreads: 0 });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = server.app.server.address() as AddressInfo;
      const body = pngImage(32, 32, 5);
      const r = await request(port, 'POST', '/predict', 'image/png', body);
      const input = preprocessImage(decodePng(body), { channels: 3, height: 32, width: 32, ...prep });
      expect(r.json()).toEqual({ top: expectedTop(classifier.model as LeNet, input, 5) });
      const bad = await request(port, 'POST', '/predict', 'image/png', Buffer.from('nope'));
      expect([bad.status, bad.json().error]).toEqual([400, expect.stringMatching(/^undecodable image/)]);
    } finally {
      await server.close();
    }
  });
});
