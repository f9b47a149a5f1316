// SPDX-License-Identifier: MIT
// inflateExact (one zlib context kept and reset between calls) against zlib.inflateSync with an output cap
// (inflateExactSlow, what it replaced): valid, truncated, corrupt, too long and too short streams, bytes after the
// stream, and valid streams right after failed ones (the kept context must start clean).
import * as zlib from 'zlib';
import { inflateExact, inflateExactSlow } from '../../lib/data/png-inflate';
import { Generator } from '../../lib/random';

const rng = new Generator(5);
const payload = Buffer.from(Array.from({ length: 4128 }, (_, i) => (i % 97 < 50 ? rng.randint(256) : i & 7)));
const stream = zlib.deflateSync(payload);

const cases: [string, Buffer, number][] = [
  ['a valid stream', stream, payload.length],
  ['a stream cut before its checksum', stream.subarray(0, stream.length - 2), payload.length],
  ['a stream cut in the middle', stream.subarray(0, stream.length >> 1), payload.length],
  ['a corrupt header', Buffer.concat([Buffer.from([0x78, 0x00]), stream.subarray(2)]), payload.length],
  ['corrupt data', Buffer.from(stream).fill(0xff, 10, 30), payload.length],
  ['more bytes than expected', stream, payload.length - 1],
  ['fewer bytes than expected', stream, payload.length + 1],
  ['bytes after the stream', Buffer.concat([stream, Buffer.from([1, 2, 3])]), payload.length],
  ['an empty input', Buffer.alloc(0), payload.length],
  ['an empty payload', zlib.deflateSync(Buffer.alloc(0)), 0],
];

describe('inflateExact', () => {
  test.each(cases)('%s: the same answer as inflateSync', (_, data, size) => {
    const slow = inflateExactSlow(data, size);
    const fast = inflateExact(data, size);
    expect(fast === null ? null : Buffer.from(fast)).toEqual(slow);
  });

  test('answers right after every kind of failure (the kept context is reset)', () => {
    for (const [, data, size] of cases) {
      inflateExact(data, size);
      expect(Buffer.from(inflateExact(stream, payload.length) as Buffer)).toEqual(payload);
    }
  });

  test('a valid stream inflates to its bytes, and larger outputs than the scratch space work', () => {
    expect(Buffer.from(inflateExact(stream, payload.length) as Buffer)).toEqual(payload);
    const big = Buffer.alloc(3 << 20, 7);
    expect(Buffer.from(inflateExact(zlib.deflateSync(big), big.length) as Buffer)).toEqual(big);
  });
});
