// SPDX-License-Identifier: MIT
// Shape arithmetic and validation; no tensor data here.
import { describe } from '../check';
import { ShapeError } from '../errors';

/** Number of elements of a shape; [] is a scalar with one element. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Validates a shape (array of safe integers >= 0 whose product is a valid array length) and returns a frozen copy. */
export function checkShape(what: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: shape must be an array of integers, got ${describe(shape)}`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') throw new TypeError(`${what}: shape[${i}] must be a number, got ${describe(d)}`);
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(`${what}: shape[${i}] must be an integer >= 0, got ${String(d)}`);
    }
    n *= d;
    if (n > 2 ** 32) throw new ShapeError(`${what}: shape [${shape.join(', ')}] has too many elements`);
  }
  return Object.freeze(shape.slice());
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a ShapeError unless `actual` equals `expected`; -1 in expected matches any size. */
export function expectShape(what: string, actual: readonly number[], expected: readonly number[]): void {
  const ok = actual.length === expected.length && expected.every((d, i) => d === -1 || d === actual[i]);
  if (!ok) {
    const want = expected.map((d) => (d === -1 ? '*' : String(d))).join(', ');
    throw new ShapeError(`${what}: expected shape [${want}], got ${formatShape(actual)}`);
  }
}
