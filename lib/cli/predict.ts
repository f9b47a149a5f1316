// SPDX-License-Identifier: MIT
// `simdnet predict`: classifies PNG and JPEG files with a saved model (safetensors or ONNX) and prints the top-k classes;
// decoding and resizing live in lib/data/image.ts.
import * as fs from 'fs';
import { Command, Option } from 'commander';
import { CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD } from '../data/cifar10';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  MNIST_CLASSES,
  MNIST_MEAN,
  MNIST_STD,
} from '../data/mnist';
import { preprocessImage, readImage, RESIZE_MODES, type ResizeMode } from '../data/image';
import { IMAGE_FOLDER_MEAN, IMAGE_FOLDER_STD } from '../data/image-folder';
import { FileFormatError } from '../errors';
import { formatPercent } from '../train/progress';
import { loadClassifier } from './classifier';
import { CLASSES_KEY, checkFileExists } from './data-path';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine, println, type CliIO } from './io';
import { integerAtLeast, nonEmpty } from './options';
import { registerPlot } from './plot';

/** Parsed `simdnet predict` options. */
export interface PredictCommandOptions {
  weights: string;
  top: number;
  /** Default 'crop'. */
  resize?: ResizeMode;
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
 * 3-channel models. "folder" (an ImageFolder) is normalised with 0.5/0.5 per channel and named by `classes`
 * (CLASSES_KEY). Otherwise pixels are only scaled to [0, 1] and classes are numbered.
 *
 * @example
 * datasetPreprocessing('fashion-mnist', 1, 10); // { name: 'Fashion-MNIST', mean: [0.286], std: [0.353], classes: [...] }
 */
export function datasetPreprocessing(
  dataset: string | undefined,
  channels: number,
  numClasses: number,
  classes?: readonly string[],
): DatasetPreprocessing {
  const key = dataset?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? (channels === 3 ? 'cifar10' : undefined);
  const fill = (v: number) => new Array<number>(channels).fill(v);
  const known: Record<string, [string, number, readonly number[], readonly number[], readonly string[]]> = {
    cifar10: ['CIFAR-10', 3, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_CLASSES],
    mnist: ['MNIST', 1, MNIST_MEAN, MNIST_STD, MNIST_CLASSES],
    fashionmnist: ['Fashion-MNIST', 1, FASHION_MNIST_MEAN, FASHION_MNIST_STD, FASHION_MNIST_CLASSES],
    folder: ['ImageFolder', channels, fill(IMAGE_FOLDER_MEAN), fill(IMAGE_FOLDER_STD), classes ?? []],
  };
  const entry = key !== undefined && Object.prototype.hasOwnProperty.call(known, key) ? known[key] : undefined;
  if (entry === undefined || entry[1] !== channels) {
    return { name: undefined, mean: fill(0), std: fill(1), classes: undefined };
  }
  const [name, , mean, std, names] = entry;
  return { name, mean, std, classes: names.length === numClasses ? names : undefined };
}

/** The class names a weights file records (CLASSES_KEY, a JSON array of strings), if any. */
export function recordedClasses(metadata: Readonly<Record<string, string>>): string[] | undefined {
  const text = metadata[CLASSES_KEY];
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The k most probable classes of one row of logits (softmax in float64), most probable first; ties by index.
 *
 * @example
 * topK(Float32Array.of(0, 2, 1), 2); // [{ index: 1, probability: 0.665 }, { index: 2, probability: 0.245 }]
 */
export function topK(logits: ArrayLike<number>, k: number): { index: number; probability: number }[] {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]);
  const p = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < n; i++) p[i] /= sum;
  if (Number.isNaN(sum)) {
    // NaN probabilities: the order of a sort with this comparator, as before (no object per class otherwise).
    const ranked = Array.from(p, (probability, index) => ({ index, probability }));
    ranked.sort((a, b) => b.probability - a.probability || a.index - b.index);
    return ranked.slice(0, k);
  }
  // k picks of the largest remaining probability, the lowest index first among equals (the serving path calls this
  // per request: no object per class).
  const top: { index: number; probability: number }[] = [];
  for (let r = 0; r < Math.min(k, n); r++) {
    let best = -1;
    for (let i = 0; i < n; i++) if (p[i] >= 0 && (best < 0 || p[i] > p[best])) best = i;
    top.push({ index: best, probability: p[best] });
    p[best] = -1; // taken
  }
  return top;
}

/** Input values per predict() call (64 MB of floats): more images run in several batches. */
const MAX_BATCH_VALUES = 2 ** 24;

const PREDICT_HELP = `
Images are PNG or JPEG files (told apart by their bytes). One that cannot be
read is reported on stderr and the others are still classified; the exit code
is then 1 (2 when a file does not exist). An image of another size is resized
as torchvision usually does (--resize crop: the short side to the model's size,
then the centre cut out) or stretched to the model's size (--resize squash);
the first output line says which.

--weights takes either kind of model file. A name ending in .onnx, or bytes that
are an ONNX model rather than safetensors, is imported as ONNX (written by
\`simdnet export\` or torch.onnx.export; the graph must be a chain of supported
ops, see docs/onnx.md): the input channels and size and the class count come
from the graph, the training dataset (normalisation, class names) from the
metadata \`simdnet export\` writes. Without a recorded dataset, 3-channel models
are normalised as CIFAR-10 and others only scaled to [0, 1]. A model prints the
same in either format.

Examples:
  simdnet predict --weights lenet.safetensors cat.png ship.jpg --top 3
  simdnet predict --weights lenet.onnx cat.png
  simdnet predict --weights lenet.onnx --resize squash wide-photo.jpg`;

/**
 * Adds the `predict` command, and `plot` (lib/cli/plot.ts), to the program: the "predict and look" commands.
 *
 * @example
 * // simdnet predict --weights lenet.safetensors cat.png ship.jpg --top 3
 * // simdnet predict --weights lenet.onnx cat.png
 */
export function registerPredictAndPlot(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('predict')
    .description('classify PNG and JPEG images with a saved model and print the most probable classes')
    .argument('<images...>', 'PNG or JPEG files (RGB, gray, PNG 8 or 16 bits with or without alpha)')
    .requiredOption(
      '--weights <file>',
      'a .safetensors file saved by `simdnet train`, or an ONNX model (.onnx)',
      nonEmpty,
    )
    .option('--top <k>', 'classes to print per image', integerAtLeast(1), 5)
    .addOption(
      new Option('--resize <mode>', 'images of another size: crop (short side, then centre) or squash')
        .choices(RESIZE_MODES)
        .default('crop'),
    )
    .addHelpText('after', PREDICT_HELP)
    .action(async (images: string[], opts: PredictCommandOptions) => setExitCode(await runPredict(images, opts, io)));
  registerPlot(program, io, setExitCode);
}

/** "images resized bilinearly (short side to 32, centre 32x32)" and its squash twin, for the model line. */
function describeResize(mode: ResizeMode, height: number, width: number): string {
  return mode === 'crop'
    ? `images resized bilinearly (short side to ${Math.max(height, width)}, centre ${height}x${width} cut out: --resize crop)`
    : `images stretched bilinearly to ${height}x${width} (aspect ratio not kept: --resize squash)`;
}

/**
 * Runs `simdnet predict` with a safetensors or ONNX model (loadClassifier in classifier.ts decides): each image is
 * decoded and preprocessed on its own; one that fails is reported on stderr ("error: <file>: ...") and skipped, the
 * rest run in batches of up to MAX_BATCH_VALUES input values. Output: a "model:" line, then per image its name and `--top` lines "  1  cat  87.12%".
 * Exit code 0, or at the end 2 if an image does not exist, else 1 if one could not be read.
 */
export async function runPredict(images: string[], opts: PredictCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  const { Tensor } = await import('../tensor/tensor');
  const net = await loadClassifier(weights, opts.weights);
  const { channels, height, width, numClasses: classCount, dataset } = net;
  if (channels !== 1 && channels !== 3) {
    throw new FileFormatError(
      opts.weights,
      `predict reads images into 1 or 3 channels; this model takes ${channels}x${height}x${width}`,
    );
  }
  const prep = datasetPreprocessing(dataset, channels, classCount, recordedClasses(net.metadata));
  if (prep.name === undefined) {
    const what =
      dataset === undefined ? 'no dataset' : `dataset "${dataset}", which has no known ${channels}-channel statistics`;
    println(io.stderr, `note: ${opts.weights} records ${what}; pixels are scaled to [0, 1] without normalisation`);
  }
  const resize = opts.resize ?? 'crop';
  const k = Math.min(opts.top, classCount);
  const scaling = prep.name === undefined ? 'scaled to [0, 1] only' : `normalised with the ${prep.name} mean/std`;
  println(
    io.stdout,
    `model: ${net.name}, input ${channels}x${height}x${width}, ${classCount} classes; ${describeResize(resize, height, width)}, ${scaling}`,
  );
  const per = channels * height * width;
  // Images run in batches of at most ~64 MB of input, so many files (or a large input size) never need one huge array.
  const batchSize = Math.max(1, Math.floor(MAX_BATCH_VALUES / per));
  let exitCode = EXIT_OK;
  for (let first = 0; first < images.length; first += batchSize) {
    const inputs: { file: string; input: Float32Array }[] = [];
    for (const file of images.slice(first, first + batchSize)) {
      // One bad file is reported and skipped; the others are still classified. A missing one is a bad path (exit 2).
      if (!fs.existsSync(file)) {
        println(io.stderr, `error: ${file}: no such file`);
        exitCode = EXIT_USAGE;
        continue;
      }
      try {
        const image = readImage(file);
        inputs.push({
          file,
          input: preprocessImage(image, { channels, height, width, mean: prep.mean, std: prep.std, resize }),
        });
      } catch (err) {
        println(io.stderr, `error: ${oneLine((err as Error).message)}`);
        if (exitCode !== EXIT_USAGE) exitCode = EXIT_FAILURE;
      }
    }
    if (inputs.length === 0) continue;
    const batch = new Float32Array(inputs.length * per);
    inputs.forEach(({ input }, i) => batch.set(input, i * per));
    const logits = net.model.predict(new Tensor(batch, [inputs.length, channels, height, width]));
    inputs.forEach(({ file }, i) => {
      println(io.stdout, file);
      const row = logits.data.subarray(i * classCount, (i + 1) * classCount);
      for (const line of formatTopK(topK(row, k), prep.classes)) println(io.stdout, line);
    });
  }
  return exitCode;
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
