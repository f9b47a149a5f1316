// SPDX-License-Identifier: MIT
// The image classifier a command's --weights names: a simdnet safetensors file (rebuilt by loadModel) or an ONNX file
// (importOnnx), with its input size, class count and recorded metadata; used by predict and eval.
import * as fs from 'fs';
import * as path from 'path';
import { FileFormatError } from '../errors';
import type { Module } from '../modules/module';
import { formatShape } from '../tensor/shape';
import { DATASET_KEY } from './data-path';
import { modelTitle, titleOfModel } from './models';

/** A classifier of [N, C, H, W] images into [N, classes] logits, and what its file records. */
export interface Classifier {
  /** "LeNet", "LeNet-5" (modelTitle); for an ONNX file of another producer its graph name and producer, "main_graph (pytorch 2.13.0)". */
  name: string;
  model: Module;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** The recorded training dataset (DATASET_KEY), if any. */
  dataset: string | undefined;
  /** The file's string metadata (safetensors `__metadata__` or ONNX metadata_props). */
  metadata: Record<string, string>;
}

/**
 * True when `file` should be read as ONNX: its name ends in .onnx, or (with another extension) it does not
 * start like safetensors (an 8-byte header length, then "{") but like a ModelProto (field 1, ir_version).
 *
 * @example
 * isOnnxFile('lenet.onnx'); // true, whatever the bytes
 */
export function isOnnxFile(file: string): boolean {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.onnx') return true;
  if (ext === '.safetensors') return false;
  const head = Buffer.alloc(9);
  const fd = fs.openSync(file, 'r');
  try {
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return n > 0 && head[0] === 0x08 && !(n === 9 && head[8] === 0x7b);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Loads the classifier in `file` (resolved path; `shown` is the path as the user typed it, for errors),
 * ONNX or safetensors as isOnnxFile() decides.
 * @throws FileFormatError naming the file when it is damaged or not an image classifier.
 *
 * @example
 * const { model, channels, height, width } = await loadClassifier('lenet.onnx', 'lenet.onnx');
 */
export async function loadClassifier(file: string, shown: string): Promise<Classifier> {
  return isOnnxFile(file) ? loadOnnxClassifier(file, shown) : loadSafetensorsClassifier(file, shown);
}

/**
 * A LeNet, LeNetBN or spec model rebuilt from a safetensors weights file; its input and class count
 * come from its config (modelShapes: LeNet's inChannels and imageSize, a spec's input, and the output size).
 */
async function loadSafetensorsClassifier(file: string, shown: string): Promise<Classifier> {
  const [{ loadModel, modelShapes }, { readSafetensors }] = await Promise.all([
    import('../train/saved-model'),
    import('../io/safetensors'),
  ]);
  const model = loadModel(file);
  const shapes = modelShapes(model);
  if (shapes === undefined) {
    throw new FileFormatError(
      shown,
      `not an image classifier: its config ${JSON.stringify(model.config)} has no inChannels, imageSize and numClasses`,
    );
  }
  if (shapes.input.length !== 4 || shapes.output.length !== 2) {
    throw new FileFormatError(
      shown,
      `not an image classifier [batch, C, H, W] -> [batch, classes]: it maps ${formatShape(shapes.input)} to ${formatShape(shapes.output)}`,
    );
  }
  const [, channels, height, width] = shapes.input;
  const metadata = readSafetensors(file).metadata;
  return {
    name: titleOfModel(model),
    model,
    channels,
    height,
    width,
    numClasses: shapes.output[1],
    dataset: metadata[DATASET_KEY],
    metadata,
  };
}

/** A Sequential imported from an ONNX file: sizes from the graph, the dataset from its metadata_props. */
async function loadOnnxClassifier(file: string, shown: string): Promise<Classifier> {
  const { importOnnx } = await import('../io/onnx-import');
  const onnx = importOnnx(file);
  const [channels, height, width] = onnx.inputShape;
  if (onnx.inputShape.length !== 3 || onnx.outputShape.length !== 1) {
    const dims = (s: number[]) => `[batch, ${s.join(', ')}]`;
    throw new FileFormatError(
      shown,
      `not an image classifier [batch, C, H, W] -> [batch, classes]: it maps ${dims(onnx.inputShape)} to ${dims(onnx.outputShape)}`,
    );
  }
  // simdnet's exports name the graph after the model class, so both formats print the same first line.
  const name =
    onnx.producer.startsWith('simdnet') && onnx.graphName
      ? modelTitle(onnx.graphName, height === width ? height : undefined)
      : `${onnx.graphName || 'graph'} (${onnx.producer || 'ONNX'})`;
  return {
    name,
    model: onnx.model,
    channels,
    height,
    width,
    numClasses: onnx.outputSize,
    dataset: onnx.metadata[DATASET_KEY],
    metadata: onnx.metadata,
  };
}
