// SPDX-License-Identifier: MIT
// Shared test helpers: seeded random tensors and closeness checks that report the worst index.
import { native } from '../lib/native';
import { Generator } from '../lib/random';
import { Tensor } from '../lib/tensor/tensor';

export function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(-scale, scale);
  return new Tensor(data, shape);
}

/** Max |a - b| over two equally long arrays (expects the lengths to match). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Fails with the max abs diff and its index when |a - e| > atol + rtol |e| anywhere. */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol = 0,
  what = 'values',
): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstDiff = 0;
  let failed = false;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= atol + rtol * Math.abs(expected[i]))) failed = true;
    if (!(diff <= worstDiff)) {
      worstDiff = diff;
      worst = i;
    }
  }
  if (failed) {
    throw new Error(
      `${what}: max abs diff ${worstDiff} at index ${worst} (actual ${actual[worst]}, expected ${expected[worst]})`,
    );
  }
}

/**
 * Expects fn to throw an error of the named class, and returns it. Checks the name, not instanceof:
 * errors made by the addon belong to Node's main realm, and jest runs tests in another one.
 */
export function expectErrorNamed(
  fn: () => unknown,
  name: 'TypeError' | 'RangeError' | 'Error' | 'FileFormatError',
  message?: RegExp,
): Error {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeDefined();
  expect((caught as Error).name).toBe(name);
  if (message) expect((caught as Error).message).toMatch(message);
  return caught as Error;
}

/**
 * `fn`'s result and how many native inference programs it ran (runProgram, or runProgramSnapshot for folded weights;
 * not a runProgramSnapshot whose weight check failed, which ran nothing).
 */
export function countProgramRuns<T>(fn: () => T): { result: T; runs: number } {
  const plain = jest.spyOn(native, 'runProgram');
  const snapshot = jest.spyOn(native, 'runProgramSnapshot');
  try {
    const result = fn();
    const ran = snapshot.mock.results.filter((r) => r.type !== 'return' || r.value !== false).length;
    return { result, runs: plain.mock.calls.length + ran };
  } finally {
    plain.mockRestore();
    snapshot.mockRestore();
  }
}

/**
 * Throws with the first differing index unless a and b hold the same float32 bit patterns. Any NaN matches any NaN:
 * WebAssembly leaves the sign and payload of a NaN that an operation makes to the engine.
 */
export function expectSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length),
    e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      throw new Error(
        `${label}: index ${i} differs: ${actual[i]} (0x${a[i].toString(16)}) != ${expected[i]} (0x${e[i].toString(16)})`,
      );
    }
  }
}
