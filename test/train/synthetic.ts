// SPDX-License-Identifier: MIT
// Test helper: a tiny, seeded, linearly separable dataset and a model that learns it in a few epochs.
import { TensorDataset } from '../../lib/data/dataset';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';

/** `n` samples of shape [1, 2, 2]: class c (of 3) is a blob around a class-specific centre, plus noise. */
export function blobs(n: number, seed = 0): TensorDataset {
  const rng = new Generator(seed);
  const centres = [
    [2, -2, 0, 0],
    [-2, 2, 0, 0],
    [0, 0, 2, -2],
  ];
  const images = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let k = 0; k < 4; k++) images[i * 4 + k] = centres[c][k] + rng.uniform(-0.7, 0.7);
  }
  return new TensorDataset(new Tensor(images, [n, 1, 2, 2]), labels, { classes: ['a', 'b', 'c'] });
}

/** Flatten -> Linear(4, 3), seeded. */
export function tinyModel(seed = 0): Sequential {
  return new Sequential(new Flatten(), new Linear({ inFeatures: 4, outFeatures: 3, generator: new Generator(seed) }));
}

/** A writable that keeps what was written. */
export function collector(isTTY = false): {
  write(s: string): boolean;
  text(): string;
  lines(): string[];
  isTTY: boolean;
  columns: number;
} {
  let out = '';
  return {
    isTTY,
    columns: 120,
    write(s: string) {
      out += s;
      return true;
    },
    text: () => out,
    lines: () => out.split('\n').filter((l) => l !== ''),
  };
}
