// SPDX-License-Identifier: MIT
// `simdnet export`: rebuilds a model from a weights file (or imports an ONNX file) and writes it as ONNX (opset 13, dynamic
// batch axis, simdnet's metadata).
import * as path from 'path';
import { Command } from 'commander';
import type { Module } from '../modules/module';
import { isOnnxFile } from './classifier';
import { checkFileExists, checkOutputPath, DATASET_KEY } from './data-path';
import { EXIT_OK, println, UsageError, type CliIO } from './io';
import { describeModule } from './model-source';
import { integerAtLeast, nonEmpty } from './options';

/** Parsed `simdnet export` options. */
export interface ExportCommandOptions {
  weights: string;
  /** Default: defaultOnnxPath(weights). */
  onnx?: string;
  batch?: number;
}

const EXPORT_HELP = `
The ONNX file has one input 'input' [batch, C, H, W] (batch is a dynamic axis:
any batch size runs; --batch only sets the example shape used to trace the model)
and one output 'logits' [batch, classes]. The model is exported in eval mode
(BatchNorm uses its running statistics, Dropout is an identity); initializers keep
the PyTorch state-dict names. Opset 13, IR version 7. The metadata_props record
the dataset the weights were trained on (simdnet.dataset) and the class count
(simdnet.num_classes), so \`simdnet predict --weights model.onnx\` normalises images
as the safetensors file would. An ONNX --weights file (from torch.onnx.export, say:
a chain of the ops docs/onnx.md lists) is rewritten in this form, metadata kept.
See docs/onnx.md.

Examples:
  simdnet export --weights lenet.safetensors              writes lenet.onnx
  simdnet export --weights net.onnx --onnx net-simple.onnx`;

/** Adds the `export` command to the program. */
export function registerExport(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('export')
    .description(
      'write a model saved by `simdnet train` (or an ONNX model) as an ONNX file for onnxruntime, PyTorch, ...',
    )
    .requiredOption(
      '--weights <file>',
      'a .safetensors file saved by `simdnet train` (the model is rebuilt from it), or an ONNX model (.onnx)',
      nonEmpty,
    )
    .option(
      '--onnx <file>',
      'the ONNX file to write, replaced atomically (default: the --weights name ending in .onnx: model.safetensors -> model.onnx; for an ONNX --weights, NAME.simdnet.onnx)',
      nonEmpty,
    )
    .option(
      '--batch <n>',
      'batch size of the example input shape (the batch axis stays dynamic; default 1)',
      integerAtLeast(1),
    )
    .addHelpText('after', EXPORT_HELP)
    .action(async (opts: ExportCommandOptions) => setExitCode(await runExport(opts, io)));
}

/**
 * The default --onnx: the --weights path with its .safetensors extension (or any other) replaced by .onnx; an ONNX input
 * gets ".simdnet.onnx", so the output never replaces it.
 *
 * @example
 * defaultOnnxPath('runs/model.safetensors', false); // "runs/model.onnx"
 * defaultOnnxPath('net.onnx', true);                // "net.simdnet.onnx"
 */
export function defaultOnnxPath(weights: string, isOnnx: boolean): string {
  const ext = path.extname(weights);
  const stem = ext === '' ? weights : weights.slice(0, -ext.length);
  return `${stem}${isOnnx ? '.simdnet' : ''}.onnx`;
}

/** Runs `simdnet export` with parsed options; returns the exit code. */
export async function runExport(opts: ExportCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  const fromOnnx = isOnnxFile(weights);
  const shown = opts.onnx ?? defaultOnnxPath(opts.weights, fromOnnx);
  const out = checkOutputPath('--onnx', shown);
  if (out === weights) throw new UsageError(`--onnx ${shown} would overwrite the --weights file`);
  const [{ exportOnnx, ONNX_OPSET, ONNX_NUM_CLASSES_KEY }, source] = await Promise.all([
    import('../io/onnx-export'),
    fromOnnx ? readOnnxSource(weights) : readWeightsSource(weights, opts.weights),
  ]);
  const shape = [opts.batch ?? 1, ...source.input.slice(1)];
  // What predict needs besides the graph: the training data (normalisation, class names) and the class count.
  const metadata: Record<string, string> = {};
  if (source.dataset !== undefined) metadata[DATASET_KEY] = source.dataset;
  if (source.output.length === 2) metadata[ONNX_NUM_CLASSES_KEY] = String(source.output[1]);
  exportOnnx(source.model, shape, out, { metadata });
  println(
    io.stdout,
    `wrote ${shown}: ${source.label}, input 'input' [batch, ${shape.slice(1).join(', ')}], output 'logits', opset ${ONNX_OPSET}`,
  );
  return EXIT_OK;
}

/** A model to export, its input and output shapes (batch 1), recorded dataset and a description. */
interface ExportSource {
  model: Module;
  input: number[];
  output: number[];
  dataset: string | undefined;
  label: string;
}

/** A simdnet weights file, rebuilt by loadModel. */
async function readWeightsSource(file: string, shown: string): Promise<ExportSource> {
  const [{ loadModel, modelShapes }, { readSafetensors }] = await Promise.all([
    import('../train/saved-model'),
    import('../io/safetensors'),
  ]);
  const model = loadModel(file);
  // LeNet's config gives inChannels and imageSize, a model spec its input; both give the output for it.
  const shapes = modelShapes(model);
  if (shapes === undefined) throw new UsageError(`--weights ${shown}: the file does not say the input size`);
  const dataset = readSafetensors(file).metadata[DATASET_KEY];
  return { model, ...shapes, dataset, label: describeModule(model) };
}

/** An ONNX file, imported as a Sequential (its graph must be a chain of supported ops; see docs/onnx.md). */
async function readOnnxSource(file: string): Promise<ExportSource> {
  const { importOnnx } = await import('../io/onnx-import');
  const onnx = importOnnx(file);
  return {
    model: onnx.model,
    input: [1, ...onnx.inputShape],
    output: [1, ...onnx.outputShape],
    dataset: onnx.metadata[DATASET_KEY],
    label: `${onnx.graphName || 'graph'} (${onnx.producer || 'ONNX'}, opset ${onnx.opset}) as ${onnx.model.namedChildren().length} layers`,
  };
}
