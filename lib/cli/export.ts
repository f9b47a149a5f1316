// SPDX-License-Identifier: MIT
// `simdnet export`: rebuilds a model from a weights file and writes it as ONNX (opset 13, dynamic batch axis).
import { Command } from 'commander';
import { checkFileExists, checkOutputPath, DATASET_KEY } from './data-path';
import { EXIT_OK, println, UsageError, type CliIO } from './io';
import { describeModule } from './model-source';
import { integerAtLeast, nonEmpty } from './options';

/** Parsed `simdnet export` options. */
export interface ExportCommandOptions {
  weights: string;
  onnx: string;
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
as the safetensors file would. See docs/onnx.md.

Example:
  simdnet export --weights lenet.safetensors --onnx lenet.onnx`;

/** Adds the `export` command to the program. */
export function registerExport(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('export')
    .description('write a model saved by `simdnet train` as an ONNX file (for onnxruntime, PyTorch, ...)')
    .requiredOption(
      '--weights <file>',
      'a .safetensors file saved by `simdnet train` (the model is rebuilt from it)',
      nonEmpty,
    )
    .requiredOption('--onnx <file>', 'the ONNX file to write (replaced atomically)', nonEmpty)
    .option(
      '--batch <n>',
      'batch size of the example input shape (the batch axis stays dynamic; default 1)',
      integerAtLeast(1),
    )
    .addHelpText('after', EXPORT_HELP)
    .action(async (opts: ExportCommandOptions) => setExitCode(await runExport(opts, io)));
}

/** Runs `simdnet export` with parsed options; returns the exit code. */
export async function runExport(opts: ExportCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  const out = checkOutputPath('--onnx', opts.onnx);
  if (out === weights) throw new UsageError(`--onnx ${opts.onnx} would overwrite the --weights file`);
  const [{ loadModel, modelShapes }, { exportOnnx, ONNX_OPSET, ONNX_NUM_CLASSES_KEY }, { readSafetensors }] =
    await Promise.all([import('../train/saved-model'), import('../io/onnx-export'), import('../io/safetensors')]);
  const model = loadModel(weights);
  // LeNet's config gives inChannels and imageSize, a model spec its input; both give the output for it.
  const shapes = modelShapes(model);
  if (shapes === undefined) throw new UsageError(`--weights ${opts.weights}: the file does not say the input size`);
  const shape = [opts.batch ?? 1, ...shapes.input.slice(1)];
  // What predict needs besides the graph: the training data (normalisation, class names) and the class count.
  const metadata: Record<string, string> = {};
  const dataset = readSafetensors(weights).metadata[DATASET_KEY];
  if (dataset !== undefined) metadata[DATASET_KEY] = dataset;
  if (shapes.output.length === 2) metadata[ONNX_NUM_CLASSES_KEY] = String(shapes.output[1]);
  exportOnnx(model, shape, out, { metadata });
  const described = describeModule(model);
  println(
    io.stdout,
    `wrote ${opts.onnx}: ${described}, input 'input' [batch, ${shape.slice(1).join(', ')}], output 'logits', opset ${ONNX_OPSET}`,
  );
  return EXIT_OK;
}
