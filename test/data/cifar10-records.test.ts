// SPDX-License-Identifier: MIT
// CIFAR10Bytes (batch-file bytes, the browser's dataset): the same samples as CIFAR10 reading the same files,
// and clear errors for data that is not CIFAR-10.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CIFAR10, CIFAR10Bytes } from '../../lib/data';
import { expectErrorNamed } from '../helpers';

const REC = 3073;

/** `n` records with labels (first + r) % 10 and pseudo-random pixels. */
function records(n: number, first: number): Buffer {
  const b = Buffer.alloc(n * REC);
  for (let r = 0; r < n; r++) {
    b[r * REC] = (first + r) % 10;
    for (let k = 0; k < 3072; k++) b[r * REC + 1 + k] = (Math.imul(k + 3, 2654435761) ^ Math.imul(r + 1, 40503)) >>> 24;
  }
  return b;
}

test('the same samples and batches as CIFAR10 on the same batch files, normalised or not', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-cifar-bytes-'));
  try {
    const parts = [records(3, 0), records(2, 5), records(1, 1), records(2, 2), records(1, 7)];
    parts.forEach((p, i) => fs.writeFileSync(path.join(tmp, `data_batch_${i + 1}.bin`), p));
    fs.writeFileSync(path.join(tmp, 'test_batch.bin'), records(2, 4));
    for (const normalize of [true, false]) {
      const files = new CIFAR10({ root: tmp, normalize });
      // ArrayBuffers and Uint8Array views (with an offset) alike.
      const bytes = new CIFAR10Bytes(
        parts.map((p, i) =>
          i % 2
            ? new Uint8Array(p.buffer, p.byteOffset, p.length)
            : (p.buffer.slice(p.byteOffset, p.byteOffset + p.length) as ArrayBuffer),
        ),
        { normalize },
      );
      expect(bytes.length).toBe(files.length);
      for (let i = 0; i < files.length; i++) expect(bytes.get(i)).toEqual(files.get(i));
      const [a, b] = [new Float32Array(3 * 3072), new Float32Array(3 * 3072)];
      const [la, lb] = [new Int32Array(3), new Int32Array(3)];
      files.getBatch([8, 0, 4], a, la);
      bytes.getBatch([8, 0, 4], b, lb);
      expect(b).toEqual(a);
      expect(lb).toEqual(la);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad data: a TypeError for the wrong kind, a FileFormatError naming the data for a bad size or label', () => {
  expectErrorNamed(() => new CIFAR10Bytes('x' as never), 'TypeError', /data must be an ArrayBuffer or Uint8Array, got/);
  expectErrorNamed(() => new CIFAR10Bytes([]), 'TypeError', /at least one batch/);
  expectErrorNamed(() => new CIFAR10Bytes(new Uint8Array(0)), 'FileFormatError', /CIFAR-10 bytes.*empty batch file/);
  expectErrorNamed(
    () => new CIFAR10Bytes(new Uint8Array(REC + 1), { name: 'b.bin' }),
    'FileFormatError',
    /b\.bin.*not a multiple of the 3073-byte record/,
  );
  const bad = records(2, 0);
  bad[REC] = 10;
  expectErrorNamed(() => new CIFAR10Bytes(bad), 'FileFormatError', /record 1 has label 10, expected 0\.\.9/);
  expectErrorNamed(
    () => new CIFAR10Bytes(records(1, 0), { normalize: 1 as never }),
    'TypeError',
    /normalize must be a boolean/,
  );
  expectErrorNamed(() => new CIFAR10Bytes(records(1, 0)).get(1), 'RangeError');
});
