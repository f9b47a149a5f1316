// SPDX-License-Identifier: MIT
// The CNN cases' networks and shared inputs: ResNet-20 and the VGG-style net with seeded weights (BatchNorm statistics
// calibrated on the bench images), their ONNX export, MACs from summary(), and simdnet's logits and first losses that
// every other system is checked against. No timing here.
import * as fs from 'fs';
import * as path from 'path';
import { encodeOnnx, manualSeed, resnet20, saveSafetensors, SGD, summary, Tensor, type Module } from '../lib';
import { trainStep } from '../lib/bench/cases';
import type { Parameter } from '../lib/modules/parameter';
import { buildModelFromSpec } from '../lib/summary/model-spec';
import type { CaseReference } from './cases';
import { CNN_INFER_BATCHES, CNN_TRAIN_BATCHES, type CnnModelName } from './options';
import type { ModelInfo } from './cnn-report';
import { benchDir, buildDir } from './setup';

/** Largest |logit| or |first loss| difference from simdnet's float32 results (other float32 libraries, other orders). */
export const CNN_TOL = 1e-3;
const N_IMAGES = Math.max(...CNN_TRAIN_BATCHES, ...CNN_INFER_BATCHES);
const N_LOGITS = Math.max(...CNN_INFER_BATCHES);
const SAMPLE = [3, 32, 32];

export interface CnnModel extends ModelInfo {
  name: CnnModelName;
  /** A fresh copy with the bench weights. */
  make(): Module;
  weights: Record<string, Tensor>;
  /** The model in ONNX (simdnet's exporter), the same weights. */
  onnx: Uint8Array;
  /** bench weights as safetensors, for PyTorch. */
  weightsFile: string;
  /** What the other systems must match: simdnet's logits for the first 64 images and first losses. */
  reference: CaseReference;
  /** The first loss per training batch (the same numbers as reference.loss). */
  losses: Record<number, number>;
}

/** The VGG-style net's model file (a copy of the shared yardstick). */
export const VGG_FILE = path.join(benchDir, 'vgg_cifar.json');

function build(name: CnnModelName): { model: Module; title: string } {
  if (name === 'resnet20') return { model: resnet20(), title: 'ResNet-20' };
  const spec = JSON.parse(fs.readFileSync(VGG_FILE, 'utf8'));
  return { model: buildModelFromSpec(spec, undefined).model, title: 'VGG-style net' };
}

/** SGD with momentum, as the ResNet recipe trains (every system uses the same; bench/pytorch_cnn.py too). */
export const SGD_OPTIONS = { lr: 0.01, momentum: 0.9 } as const;
export const sgd = (params: Parameter[]): SGD => new SGD(params, { ...SGD_OPTIONS });

/**
 * Builds `name` from seed 0, runs three training-mode forward passes over the first 64 bench images so that the
 * BatchNorm running statistics are those of the data (eval-mode outputs then have a realistic scale), and records
 * simdnet's logits and first losses as the reference of the other systems.
 */
export function prepareCnn(name: CnnModelName, images: Float32Array, targets: Int32Array): CnnModel {
  manualSeed(0);
  const { model, title } = build(name);
  const x64 = new Tensor(images.slice(0, N_LOGITS * 3072), [N_LOGITS, ...SAMPLE]);
  model.train();
  for (let i = 0; i < 3; i++) model.forward(x64);
  model.eval();
  const weights: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) weights[k] = new Tensor(t.data.slice(), [...t.shape]);
  const make = (): Module => {
    manualSeed(0);
    const m = build(name).model;
    m.loadStateDict(weights);
    return m;
  };
  const logits = make().eval().predict(x64).data.slice();
  const classes = logits.length / N_LOGITS;
  const losses: Record<number, number> = {};
  for (const b of CNN_TRAIN_BATCHES) {
    const xb = new Tensor(images.subarray(0, b * 3072), [b, ...SAMPLE]);
    losses[b] = trainStep(make(), xb, targets.subarray(0, b), sgd)();
  }
  fs.mkdirSync(buildDir, { recursive: true });
  const weightsFile = path.join(buildDir, `${name}.safetensors`);
  saveSafetensors(weightsFile, weights);
  return {
    name,
    title,
    macsPerImage: summary(make(), [1, ...SAMPLE]).totalMacs,
    make,
    weights,
    onnx: encodeOnnx(make(), [1, ...SAMPLE]),
    weightsFile,
    losses,
    reference: {
      logits,
      classes,
      loss: (n) => losses[n] ?? NaN,
      tol: CNN_TOL,
      name: "simdnet's float32 result",
    },
  };
}

/** Writes the shared images, targets and simdnet's reference for bench/pytorch_cnn.py. */
export function writeCnnData(m: CnnModel, images: Float32Array, targets: Int32Array, file: string): void {
  saveSafetensors(file, {
    images: new Tensor(images.slice(0, N_IMAGES * 3072), [N_IMAGES, ...SAMPLE]),
    targets: new Tensor(Float32Array.from(targets.subarray(0, N_IMAGES)), [N_IMAGES]),
    ref_logits: new Tensor(Float32Array.from(m.reference.logits), [N_LOGITS, m.reference.classes]),
    ref_loss: new Tensor(Float32Array.from(CNN_TRAIN_BATCHES.map((b) => m.losses[b])), [CNN_TRAIN_BATCHES.length]),
  });
}
