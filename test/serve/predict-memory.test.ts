// SPDX-License-Identifier: MIT
// Concurrent predictAsync() calls share one weight snapshot: 100 calls in flight on a ~100 MB model add less than twice
// the model's size to the peak resident memory of a child process (the snapshot itself is one model's size). Copying the
// weights per call, as predictAsync once did, would add 100 times the model.
import { spawnSync } from 'child_process';
import * as path from 'path';

const CALLS = 100;

test(`${CALLS} concurrent predictAsync() calls on a 100 MB model add < 2x its size to peak RSS`, () => {
  const runner = path.join(__dirname, '..', 'cli', 'run-ts.js');
  const r = spawnSync(process.execPath, [runner, path.join(__dirname, 'predict-memory-child.ts'), String(CALLS)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  const m = JSON.parse(r.stdout) as { modelBytes: number; peakBefore: number; peakAfter: number; finite: boolean };
  const addedMb = (m.peakAfter - m.peakBefore) / 2 ** 20;
  console.log(`model ${(m.modelBytes / 2 ** 20).toFixed(1)} MB; peak RSS grew by ${addedMb.toFixed(1)} MB`);
  expect(m.finite).toBe(true);
  expect(m.modelBytes).toBeGreaterThan(95e6);
  expect(m.peakAfter - m.peakBefore).toBeLessThan(2 * m.modelBytes);
});
