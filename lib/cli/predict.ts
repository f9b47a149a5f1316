// SPDX-License-Identifier: MIT
// `simdnet predict`: classifies PNG files with a saved model (safetensors or ONNX) and prints the top-k classes; decoding and
// resizing live in image.ts.
import { Command } from 'commander';
import { CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD } from '../data/cifar10';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  MNIST_CLASSES,
  MNIST_MEAN,
  MNIST_STD,
} from '../data/mnist';
import { FileFormatError } from '../errors';
import { registerPlot } from '../plot/command';
import { formatPercent } from '../train/progress';
import { loadClassifier } from './classifier';
import { checkFileExists } from './data-path';
import { preprocessImage, readPng } from './image';
import { EXIT_OK, println, type CliIO } from './io';
import { integerAtLeast, nonEmpty } from './options';

/** Parsed `simdnet predict` options. */
export interface PredictCommandOptions {
  weights: string;
  top: number;
}

/** How a model's training data was scaled, and its class names; from datasetPreprocessing(). */
export interface DatasetPreprocessing {
  /** "CIFAR-10", "MNIST", "Fashion-MNIST", or undefined when unknown (then x/255 only). */
  name: string | undefined;
  mean: readonly number[];
  std: readonly number[];
  /** Class names in label order, when known for this number of classes. */
  classes: readonly string[] | undefined;
}

/**
 * The normalisation and class names of a model's training data: from the dataset its weights file
 * records (DATASET_KEY; spelling and case are free: "Fashion-MNIST" = "fashionmnist"), else CIFAR-10 for
 * 3-channel models. Otherwise pixels are only scaled to [0, 1] and classes are numbered.
 *
 * @example
 * datasetPreprocessing('fashion-mnist', 1, 10); // { name: 'Fashion-MNIST', mean: [0.286], std: [0.353], classes: [...] }
 */
export function datasetPreprocessing(
  dataset: string | undefined,
  channels: number,
  numClasses: number,
): DatasetPreprocessing {
  const key = dataset?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? (channels === 3 ? 'cifar10' : undefined);
  const known: Record<string, [string, number, readonly number[], readonly number[], readonly string[]]> = {
    cifar10: ['CIFAR-10', 3, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_CLASSES],
    mnist: ['MNIST', 1, MNIST_MEAN, MNIST_STD, MNIST_CLASSES],
    fashionmnist: ['Fashion-MNIST', 1, FASHION_MNIST_MEAN, FASHION_MNIST_STD, FASHION_MNIST_CLASSES],
  };
  const entry = key !== undefined && Object.prototype.hasOwnProperty.call(known, key) ? known[key] : undefined;
  if (entry === undefined || entry[1] !== channels) {
    return { name: undefined, mean: new Array(channels).fill(0), std: new Array(channels).fill(1), classes: undefined };
  }
  const [name, , mean, std, classes] = entry;
  return { name, mean, std, classes: classes.length === numClasses ? classes : undefined };
}

/**
 * The k most probable classes of one row of logits (softmax in float64), most probable first; ties by index.
 *
 * @example
 * topK(Float32Array.of(0, 2, 1), 2); // [{ index: 1, probability: 0.665 }, { index: 2, probability: 0.245 }]
 */
export function topK(logits: ArrayLike<number>, k: number): { index: number; probability: number }[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  const ranked = exp.map((e, index) => ({ index, probability: e / sum }));
  ranked.sort((a, b) => b.probability - a.probability || a.index - b.index);
  return ranked.slice(0, k);
}

const PREDICT_HELP = `
--weights takes either kind of model file. A name ending in .onnx, or bytes that
are an ONNX model rather than safetensors, is imported as ONNX (written by
\`simdnet export\` or torch.onnx.export; the graph must be a chain of supported
ops, see docs/onnx.md): the input channels and size and the class count come
from the graph, the training dataset (normalisation, class names) from the
metadata \`simdnet export\` writes. Without a recorded dataset, 3-channel models
are normalised as CIFAR-10 and others only scaled to [0, 1]. A model prints the
same in either format.

Examples:
  simdnet predict --weights lenet.safetensors cat.png ship.png --top 3
  simdnet predict --weights lenet.onnx cat.png`;

/**
 * Adds the `predict` command, and `plot` (lib/plot/command.ts), to the program: the "predict and look" commands.
 *
 * @example
 * // simdnet predict --weights lenet.safetensors cat.png ship.png --top 3
 * // simdnet predict --weights lenet.onnx cat.png
 */
export function registerPredictAndPlot(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('predict')
    .description('classify PNG images with a saved model and print the most probable classes')
    .argument('<images...>', 'PNG files (RGB, RGBA, gray, 8 or 16 bits; resized to the model input)')
    .requiredOption(
      '--weights <file>',
      'a .safetensors file saved by `simdnet train`, or an ONNX model (.onnx)',
      nonEmpty,
    )
    .option('--top <k>', 'classes to print per image', integerAtLeast(1), 5)
    .addHelpText('after', PREDICT_HELP)
    .action(async (images: string[], opts: PredictCommandOptions) => setExitCode(await runPredict(images, opts, io)));
  registerPlot(program, io, setExitCode);
}

/**
 * Runs `simdnet predict` with a safetensors or ONNX model (loadClassifier in classifier.ts decides): every image is decoded
 * before the model runs (a bad file stops everything with exit code 1), then all run as one batch.
 * Output: a "model:" line, then per image its name and `--top` lines "  1  cat  87.12%".
 */
export async function runPredict(images: string[], opts: PredictCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  const { Tensor } = await import('../tensor/tensor');
  const net = await loadClassifier(weights, opts.weights);
  const { channels, height, width, numClasses: classCount, dataset } = net;
  if (channels !== 1 && channels !== 3) {
    throw new FileFormatError(
      opts.weights,
      `predict reads PNG images into 1 or 3 channels; this model takes ${channels}x${height}x${width}`,
    );
  }
  const prep = datasetPreprocessing(dataset, channels, classCount);
  if (prep.name === undefined) {
    const what =
      dataset === undefined ? 'no dataset' : `dataset "${dataset}", which has no known ${channels}-channel statistics`;
    println(io.stderr, `note: ${opts.weights} records ${what}; pixels are scaled to [0, 1] without normalisation`);
  }

  const per = channels * height * width;
  const batch = new Float32Array(images.length * per);
  images.forEach((file, i) => {
    const input = preprocessImage(readPng(file), { channels, height, width, mean: prep.mean, std: prep.std });
    batch.set(input, i * per);
  });
  const logits = net.model.predict(new Tensor(batch, [images.length, channels, height, width]));
  const k = Math.min(opts.top, classCount);
  const scaling = prep.name === undefined ? 'scaled to [0, 1] only' : `normalised with the ${prep.name} mean/std`;
  println(
    io.stdout,
    `model: ${net.name}, input ${channels}x${height}x${width}, ${classCount} classes; images resized bilinearly, ${scaling}`,
  );
  images.forEach((file, i) => {
    println(io.stdout, file);
    const row = logits.data.subarray(i * classCount, (i + 1) * classCount);
    for (const line of formatTopK(topK(row, k), prep.classes)) println(io.stdout, line);
  });
  return EXIT_OK;
}

/**
 * "  1  cat         87.12%" lines; class names padded to the longest shown, "class 7" when unnamed.
 *
 * @example
 * formatTopK(topK(logits, 5), CIFAR10_CLASSES).forEach((line) => console.log(line));
 */
export function formatTopK(
  top: { index: number; probability: number }[],
  classes: readonly string[] | undefined,
): string[] {
  const names = top.map(({ index }) => classes?.[index] ?? `class ${index}`);
  const width = Math.max(...names.map((n) => n.length));
  const rank = String(top.length).length;
  return top.map(
    ({ probability }, r) =>
      `  ${String(r + 1).padStart(rank)}  ${names[r].padEnd(width)}  ${formatPercent(probability).padStart(7)}`,
  );
}
