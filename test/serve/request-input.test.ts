// SPDX-License-Identifier: MIT
// imageInput()'s one-pass path (a plain PNG of the model's size, decoded and normalised by decodePlainPngInto): its
// inputs equal, bit for bit, what the general path gives (decodePngBuffer, then preprocessImage), for every colour type
// and row filter, and files it cannot take (other sizes, 16-bit, palette) still go the general way.
import { PNG } from 'pngjs';
import { CIFAR10_MEAN, CIFAR10_STD } from '../../lib/data/cifar10';
import { preprocessImage, type Preprocess } from '../../lib/data/image';
import { decodePngBuffer } from '../../lib/data/png';
import { Generator } from '../../lib/random';
import { imageInput } from '../../lib/serve/request-input';

const MAX = 1 << 24;

function randomPng(w: number, h: number, colorType: 0 | 2 | 4 | 6, filterType: number, seed: number, depth = 8) {
  const rng = new Generator(seed);
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) png.data[i] = rng.randint(256);
  return PNG.sync.write(png, { colorType, filterType, bitDepth: depth as 8, inputColorType: 6, inputHasAlpha: true });
}

/** The general path's answer: decode to [0, 1] planes, then preprocessImage. */
const general = (buf: Buffer, prep: Preprocess) => preprocessImage(decodePngBuffer(buf, 'x.png', MAX), prep);
const bits = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

describe('imageInput on PNG bodies', () => {
  const preps: Preprocess[] = [
    { channels: 3, height: 32, width: 32, mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] },
    { channels: 3, height: 7, width: 5, mean: [0.1, 0.7, 0.33], std: [0.3, 1.7, 0.05], resize: 'squash' },
  ];
  for (const colorType of [0, 2, 4, 6] as const) {
    test(`colour type ${colorType}, every row filter: the one-pass path equals decode + preprocessImage bit for bit`, () => {
      for (const prep of preps) {
        for (const filterType of [-1, 0, 1, 2, 3, 4]) {
          const buf = randomPng(prep.width, prep.height, colorType, filterType, 31 * colorType + filterType + 7);
          const got = imageInput(buf, 'image/png', prep, MAX);
          expect(got.length).toBe(3 * prep.width * prep.height);
          expect(bits(got).equals(bits(general(buf, prep)))).toBe(true);
        }
      }
    });
  }

  test('other sizes, 16-bit samples and 1-channel models take the general path, with the same answers as before', () => {
    const [prep] = preps;
    const cases: [Buffer, Preprocess][] = [
      [randomPng(40, 24, 2, -1, 1), prep], // resized
      [randomPng(32, 32, 6, -1, 2, 16), prep], // not a plain PNG
      [randomPng(32, 32, 2, -1, 3), { ...prep, channels: 1, mean: [0.5], std: [0.25] }],
    ];
    for (const [buf, p] of cases)
      expect(bits(imageInput(buf, 'image/png', p, MAX)).equals(bits(general(buf, p)))).toBe(true);
  });

  test('with `out`, a plain PNG is decoded into it (the same bits); other images get a new array, `out` unused', () => {
    const [prep] = preps;
    const out = new Float32Array(3 * 32 * 32);
    for (const colorType of [0, 2, 4, 6] as const) {
      const buf = randomPng(32, 32, colorType, -1, 40 + colorType);
      expect(imageInput(buf, 'image/png', prep, MAX, undefined, out)).toBe(out);
      expect(bits(out).equals(bits(general(buf, prep)))).toBe(true);
    }
    const other = randomPng(40, 24, 2, -1, 1);
    const got = imageInput(other, 'image/png', prep, MAX, undefined, out);
    expect(got).not.toBe(out);
    expect(bits(got).equals(bits(general(other, prep)))).toBe(true);
    expect(imageInput(randomPng(32, 32, 2, -1, 5), 'image/png', prep, MAX, undefined, new Float32Array(5)).length).toBe(
      3072,
    );
  });

  test('a plain PNG of the model size with a broken CRC still gets the general path (and its error)', () => {
    const [prep] = preps;
    const buf = randomPng(32, 32, 2, -1, 4);
    buf[buf.length - 20] ^= 0xff; // inside the last IDAT's data or CRC
    expect(() => general(buf, prep)).toThrow();
    expect(() => imageInput(buf, 'image/png', prep, MAX)).toThrow(/undecodable image/);
  });
});
