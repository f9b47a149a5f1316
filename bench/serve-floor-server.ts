// SPDX-License-Identifier: MIT
// The floor of the HTTP serving bench: node:http alone, reading each POST body as the raw route of `simdnet serve`
// does and answering a fixed 5-class JSON answer with the same headers, no decoding and no model. What it costs per
// request is what node's HTTP and the loopback socket cost any server on this machine (docs/serving.md, 2026-12-07d).
// Run as a child process: `node serve-floor-server.js`; prints "listening on http://127.0.0.1:PORT", exits on SIGTERM.
import * as http from 'http';
import type { AddressInfo } from 'net';

const labels = ['cat', 'dog', 'frog', 'ship', 'truck'];
const text = JSON.stringify({
  top: labels.map((label, i) => ({ label, index: 3 + i, probability: 0.7123456789012345 / (i + 1) })),
});
const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(text))];

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => res.writeHead(200, headers).end(text));
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
