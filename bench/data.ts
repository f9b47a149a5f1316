// SPDX-License-Identifier: MIT
// The shared inputs of every case: bench/lenet.safetensors weights, seeded images and labels, float64 reference logits.
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensors, saveSafetensors } from '../lib/io/safetensors';
import { Generator } from '../lib/random';
import { Tensor } from '../lib/tensor/tensor';
import type { CaseReference } from './cases';
import { benchDir } from './setup';
import { crossEntropyRef, lenetRef } from './reference';

/** Largest |logit difference| (and loss difference) a system may show against the float64 reference. */
export const TOL = 1e-4;
export const TRAIN_BATCHES = [32, 64, 256];
export const INFER_BATCHES = [1, 64, 1000];
const N_IMAGES = Math.max(...INFER_BATCHES, ...TRAIN_BATCHES);

export interface BenchData {
  /** LeNet weights by PyTorch name (from bench/lenet.safetensors, the weights inside bench/lenet.onnx). */
  weights: Record<string, Tensor>;
  /** N_IMAGES images [N, 3, 32, 32], uniform in [-1, 1). */
  images: Float32Array;
  /** Class targets 0..9, one per image. */
  targets: Int32Array;
  /** Float64 logits of `images` [N, 10] with `weights`. */
  refLogits: Float64Array;
  /** Float64 mean cross-entropy of the first n images. */
  refLoss(n: number): number;
}

/** bench/lenet.safetensors: the PyTorch LeNet's state dict (seed 0), the same weights as bench/lenet.onnx. */
export function loadWeights(): Record<string, Tensor> {
  const file = path.join(benchDir, 'lenet.safetensors');
  if (!fs.existsSync(file))
    throw new Error(`bench: ${file} is missing; run /usr/bin/python3 bench/export_lenet_onnx.py`);
  return readSafetensors(file).tensors;
}

export function loadBenchData(): BenchData {
  const weights = loadWeights();
  const rng = new Generator(2024);
  const images = new Float32Array(N_IMAGES * 3 * 32 * 32);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform(-1, 1);
  const targets = new Int32Array(N_IMAGES);
  for (let i = 0; i < N_IMAGES; i++) targets[i] = rng.randint(10);
  const refLogits = lenetRef(weights, images, N_IMAGES);
  return { weights, images, targets, refLogits, refLoss: (n) => crossEntropyRef(refLogits, targets, n, 10) };
}

/** The LeNet cases' reference: the float64 JS LeNet on the shared weights and images. */
export function lenetReference(data: BenchData): CaseReference {
  return { logits: data.refLogits, classes: 10, loss: data.refLoss, tol: TOL, name: 'the float64 reference' };
}

/** Writes images, targets (as F32) and reference logits for bench/pytorch_bench.py. */
export function writeDataFile(data: BenchData, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  saveSafetensors(file, {
    images: new Tensor(data.images, [N_IMAGES, 3, 32, 32]),
    targets: new Tensor(Float32Array.from(data.targets), [N_IMAGES]),
    ref_logits: new Tensor(Float32Array.from(data.refLogits), [N_IMAGES, 10]),
  });
}

/** The first n images of the shared set as an NCHW tensor (a view, not a copy). */
export function batchOf(data: BenchData, n: number): Tensor {
  return new Tensor(data.images.subarray(0, n * 3072), [n, 3, 32, 32]);
}
