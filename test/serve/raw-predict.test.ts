// SPDX-License-Identifier: MIT
// POST /predict with an image body takes the raw node:http route (lib/serve/raw-predict.ts) in front of fastify: its
// answers, limits, errors, metrics and shutdown are those of the fastify route (server.test.ts has the shared cases).
import * as http from 'http';
import * as net from 'net';
import type { AddressInfo } from 'net';
import { decodePng, preprocessImage } from '../../lib/data/image';
import type { LeNet } from '../../lib/modules/lenet';
import { createServer, type ModelServer, type ServerOptions } from '../../lib/serve/server';
import { expectedTop, lenetClassifier, pngImage, prep, request } from './helpers';

async function listening(options: Partial<ServerOptions> = {}): Promise<{ server: ModelServer; port: number }> {
  const server = createServer({ classifier: lenetClassifier(), preprocessing: prep, bodyLimit: 64 * 1024, ...options });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, port: (server.app.server.address() as AddressInfo).port };
}

/** The image's model input, preprocessed as the server does it. */
const inputOf = (png: Buffer) => preprocessImage(decodePng(png), { channels: 3, height: 32, width: 32, ...prep });

/** Sample values of GET /metrics by name (labels included). */
async function samples(port: number): Promise<Map<string, number>> {
  const r = await request(port, 'GET', '/metrics');
  const out = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m && !line.startsWith('#')) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('POST /predict image bodies on the raw route', () => {
  const classifier = lenetClassifier();
  let server: ModelServer;
  let port: number;
  beforeAll(async () => ({ server, port } = await listening({ classifier })));
  afterAll(() => server.close());

  test('Content-Type parameters and case, and ?top=k: answered as a lone predict() with fastify headers', async () => {
    const png = pngImage(32, 32, 7);
    const r = await request(port, 'POST', '/predict?top=3', 'IMAGE/PNG; foo=bar', png);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    expect(r.json()).toEqual({ top: expectedTop(classifier.model as LeNet, inputOf(png), 3) });
  });

  test.each(['?top=0', '?top=1&top=2', '?top=x'])('%s on an image body gets 400 with a message', async (query) => {
    const r = await request(port, 'POST', `/predict${query}`, 'image/png', pngImage(32, 32));
    expect([r.status, r.json().error]).toEqual([400, expect.stringMatching(/^\?top must be an integer from 1 to 10/)]);
  });

  test("a chunked body over the limit (no Content-Length) gets 413 with fastify's message", async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers = { 'content-type': 'image/png', 'transfer-encoding': 'chunked' };
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/predict', headers, agent: false });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(40 * 1024, 1));
      req.end(Buffer.alloc(40 * 1024, 1));
    });
    expect(answer).toEqual({ status: 413, body: JSON.stringify({ error: 'Request body is too large' }) });
  });

  test('a client that goes away mid-body leaves the server serving, nothing in flight', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n');
    socket.write(Buffer.alloc(100));
    socket.destroy();
    const png = pngImage(32, 32, 3);
    const r = await request(port, 'POST', '/predict', 'image/png', png);
    expect(r.status).toBe(200);
    expect((await samples(port)).get('simdnet_requests_in_flight')).toBe(0);
  });

  test('image answers and refusals are counted in /metrics', async () => {
    const before = await samples(port);
    await request(port, 'POST', '/predict', 'image/png', pngImage(32, 32, 4));
    await request(port, 'POST', '/predict', 'image/png', Buffer.alloc(70 * 1024, 1)); // 413 from Content-Length
    await request(port, 'POST', '/predict', 'image/png', Buffer.from('nope')); // 400
    const after = await samples(port);
    const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    expect(['200', '400', '413'].map((c) => delta(`simdnet_requests_total{code="${c}"}`))).toEqual([1, 1, 1]);
    expect(delta('simdnet_request_errors_total')).toBe(2);
    expect(delta('simdnet_request_duration_seconds_count')).toBe(3);
    expect(after.get('simdnet_requests_in_flight')).toBe(0);
  });
});

test('a failing model answers 500 "prediction failed", logged, and the server keeps serving', async () => {
  const classifier = lenetClassifier();
  classifier.model.predictAsync = () => Promise.reject(new Error('out of memory (test)'));
  const { server, port } = await listening({ classifier });
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    written.push(String(s));
    return true;
  });
  try {
    const r = await request(port, 'POST', '/predict', 'image/png', pngImage(32, 32));
    expect([r.status, r.json()]).toEqual([500, { error: 'prediction failed: out of memory (test)' }]);
    expect(written).toEqual(['error: out of memory (test)\n']);
    expect((await request(port, 'GET', '/health')).status).toBe(200);
    expect((await samples(port)).get('simdnet_requests_total{code="500"}')).toBe(1);
  } finally {
    spy.mockRestore();
    await server.close();
  }
});

test('close() answers every held image request on keep-alive connections, then resolves', async () => {
  const classifier = lenetClassifier();
  const { server, port } = await listening({ classifier, holdUntilClose: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const bodies = Array.from({ length: 8 }, (_, i) => pngImage(32, 32, 10 + i));
    const events: string[] = [];
    const answers = bodies.map((b) =>
      request(port, 'POST', '/predict', 'image/png', b, agent).then((r) => (events.push('answered'), r)),
    );
    while (server.metrics.requestsInFlight < bodies.length) await new Promise((r) => setTimeout(r, 10));
    await server.close().then(() => events.push('closed'));
    const results = await Promise.all(answers);
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.headers.connection).toBe('keep-alive');
      expect(r.json()).toEqual({ top: expectedTop(classifier.model as LeNet, inputOf(bodies[i]), 5) });
    });
    expect(events).toEqual([...new Array<string>(bodies.length).fill('answered'), 'closed']);
  } finally {
    agent.destroy();
  }
}, 60_000);
