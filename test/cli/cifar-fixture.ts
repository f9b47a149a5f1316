// SPDX-License-Identifier: MIT
// Test helper: writes a tiny CIFAR-10-format folder (data_batch_1..5.bin, test_batch.bin) with learnable synthetic images.
import * as fs from 'fs';
import * as path from 'path';
import { Generator } from '../../lib/random';

const RECORD = 1 + 3 * 32 * 32;

/**
 * Writes `perTrainFile` records into each of data_batch_1..5.bin and `testRecords` into test_batch.bin
 * under `dir` (created). Class c is a noisy image whose mean brightness rises with c, so a model can learn it.
 */
export function writeTinyCifar10(dir: string, perTrainFile = 8, testRecords = 20, seed = 1): void {
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Generator(seed);
  const file = (name: string, count: number, offset: number): void => {
    const buf = Buffer.alloc(count * RECORD);
    for (let r = 0; r < count; r++) {
      const label = (r + offset) % 10;
      buf[r * RECORD] = label;
      for (let k = 1; k < RECORD; k++) buf[r * RECORD + k] = Math.min(255, label * 25 + rng.randint(30));
    }
    fs.writeFileSync(path.join(dir, name), buf);
  };
  for (let i = 1; i <= 5; i++) file(`data_batch_${i}.bin`, perTrainFile, i);
  file('test_batch.bin', testRecords, 0);
}
