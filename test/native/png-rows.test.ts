// SPDX-License-Identifier: MIT
// pngRowsToPlanes (native/kernels/image/png_rows_ref.cc) against lib/data/png-fast.ts's JavaScript rowsToPlanes, bit for
// bit and byte for byte: every row filter (first row and later rows), every 8-bit colour layout, awkward widths, an
// unknown filter; and its argument errors.
import { rowsToPlanes } from '../../lib/data/png-fast';
import { native } from '../../lib/native';
import { expectSameBits } from '../helpers';
import { expectError } from './binding-specs';
import { Rng } from './reference';

const pngRowsToPlanes = native.pngRowsToPlanes;

/** Random rows: random samples, each row's filter from `filters` in turn (so each filter meets each row position). */
function rows(rng: Rng, width: number, height: number, bpp: number, filters: number[], shift: number): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * bpp));
  for (let i = 0; i < raw.length; i++) raw[i] = rng.int(0, 255);
  for (let y = 0; y < height; y++) raw[y * (1 + width * bpp)] = filters[(y + shift) % filters.length];
  return raw;
}

function table(rng: Rng): Float32Array {
  return Float32Array.from({ length: 768 }, () => (rng.next() - 0.5) * 7);
}

describe.each([
  [1, 0],
  [2, 0],
  [3, 1],
  [4, 1],
])('bpp %i, color %i', (bpp, color) => {
  test.each([1, 2, 3, 7, 16, 33])(
    'width %i: same planes and unfiltered rows as rowsToPlanes, for every filter',
    (w) => {
      const rng = new Rng(1000 * bpp + w);
      for (const filters of [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]) {
        for (const h of [1, 2, 5]) {
          for (let shift = 0; shift < filters.length; shift++) {
            const raw = rows(rng, w, h, bpp, filters, shift);
            const t = table(rng);
            const [ours, ref] = [raw.slice(), raw.slice()];
            const [out, expected] = [new Float32Array(3 * w * h).fill(NaN), new Float32Array(3 * w * h).fill(NaN)];
            expect(pngRowsToPlanes(out, ours, t, w, h, bpp, color)).toBe(true);
            expect(rowsToPlanes(expected, ref, t, w, h, bpp, color)).toBe(true);
            expect(Array.from(ours)).toEqual(Array.from(ref));
            expectSameBits(out, expected, 'planes');
          }
        }
      }
    },
  );
});

test('an unknown filter byte (5 and above) gives false, as rowsToPlanes', () => {
  const rng = new Rng(7);
  for (const bad of [5, 6, 255]) {
    for (const at of [0, 2]) {
      const raw = rows(rng, 4, 3, 3, [1], 0);
      raw[at * 13] = bad;
      const out = new Float32Array(36);
      expect(pngRowsToPlanes(out, raw.slice(), table(rng), 4, 3, 3, 1)).toBe(false);
      expect(rowsToPlanes(out, raw.slice(), table(rng), 4, 3, 3, 1)).toBe(false);
    }
  }
});

test('a Buffer is taken as the rows (the inflater returns one)', () => {
  const rng = new Rng(9);
  const raw = Buffer.from(rows(rng, 5, 2, 4, [4, 3], 0));
  const t = table(rng);
  const out = new Float32Array(30);
  const expected = new Float32Array(30);
  expect(pngRowsToPlanes(out, Buffer.from(raw), t, 5, 2, 4, 1)).toBe(true);
  rowsToPlanes(expected, Uint8Array.from(raw), t, 5, 2, 4, 1);
  expectSameBits(out, expected, 'planes');
});

describe('argument errors', () => {
  const ok = (): [Float32Array, Uint8Array, Float32Array, number, number, number, number] => [
    new Float32Array(3 * 4 * 2),
    new Uint8Array(2 * (1 + 4 * 3)),
    new Float32Array(768),
    4,
    2,
    3,
    1,
  ];
  const call = (change: (args: ReturnType<typeof ok>) => void): (() => void) => {
    const args = ok();
    change(args);
    return () => pngRowsToPlanes(...args);
  };

  test('valid arguments run', () => {
    expect(call(() => {})()).toBe(true);
  });

  test('wrong kinds are TypeErrors', () => {
    expectError(
      call((a) => ((a as unknown[])[1] = new Float32Array(26))),
      'TypeError',
      /./,
    );
    expectError(
      call((a) => ((a as unknown[])[1] = [0, 0])),
      'TypeError',
      /raw must be a Uint8Array, got Array/,
    );
    expectError(
      call((a) => ((a as unknown[])[0] = new Float64Array(24))),
      'TypeError',
      /./,
    );
    expectError(
      call((a) => ((a as unknown[])[3] = '4')),
      'TypeError',
      /./,
    );
    expectError(
      () => (pngRowsToPlanes as (...a: unknown[]) => unknown)(...ok().slice(0, 6)),
      'TypeError',
      /expected 7 arguments, got 6/,
    );
  });

  test('wrong sizes and values are RangeErrors naming both numbers', () => {
    expectError(
      call((a) => (a[1] = new Uint8Array(25))),
      'RangeError',
      /raw length 25 != height\*\(1\+width\*bpp\) = 26/,
    );
    expectError(
      call((a) => (a[0] = new Float32Array(23))),
      'RangeError',
      /out length 23 != 3\*width\*height = 24/,
    );
    expectError(
      call((a) => (a[2] = new Float32Array(256))),
      'RangeError',
      /table length 256 != 3\*256 = 768/,
    );
    expectError(
      call((a) => (a[5] = 5)),
      'RangeError',
      /bpp must be 1, 2, 3 or 4, got 5/,
    );
    expectError(
      call((a) => (a[5] = 0)),
      'RangeError',
      /./,
    );
    expectError(
      call((a) => (a[6] = 2)),
      'RangeError',
      /color must be 0 or 1, got 2/,
    );
    expectError(
      call((a) => (a[6] = 0)),
      'RangeError',
      /color 0 does not fit bpp 3/,
    );
    expectError(
      call((a) => (a[3] = 2 ** 25)),
      'RangeError',
      /at most 16777216/,
    );
    expectError(
      call((a) => (a[3] = 1.5)),
      'RangeError',
      /./,
    );
  });

  test('out may not overlap the table', () => {
    const shared = new Float32Array(768 + 24);
    const args = ok();
    args[0] = shared.subarray(0, 24);
    args[2] = shared.subarray(16, 784);
    expectError(() => pngRowsToPlanes(...args), 'RangeError', /out overlaps table/);
  });
});
