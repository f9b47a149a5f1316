// SPDX-License-Identifier: MIT
// `simdnet summary`: per-layer shapes, parameters, MACs and activation memory of a built-in model, a JSON model file or a weights file.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Module } from '../modules/module';
import { EXIT_OK, println, UsageError, type CliIO } from './io';
import { describeModule, readModelFile, readWeightsModel } from './model-source';
import { buildBuiltinModel, describeModelNames, MODEL_NAMES, MODELS, type ModelName } from './models';
import { nonEmpty } from './options';

/** Parsed `simdnet summary` options. */
export interface SummaryCommandOptions {
  model?: ModelName;
  modelFile?: string;
  weights?: string;
  input?: number[];
  json?: boolean;
}

const MODEL_FILE_HELP = `
Model file (--model-file): JSON with the input shape (batch first) and the layers
in order, e.g.
  {"input": [1, 3, 32, 32], "layers": [
    {"type": "conv2d", "outChannels": 6, "kernelSize": 5}, {"type": "relu"},
    {"type": "maxpool2d", "kernelSize": 2}, {"type": "flatten"},
    {"type": "linear", "outFeatures": 10}]}
Types: conv1d, conv2d, maxpool2d, avgpool2d, adaptiveavgpool2d, batchnorm1d,
batchnorm2d, layernorm, groupnorm, relu, relu6, hardtanh, leakyrelu, sigmoid, tanh,
softmax, logsoftmax, gelu, silu, hardswish, hardsigmoid, elu, identity, dropout,
dropout2d, flatten, linear, and sequential (a nested block with its own "layers"). Options are the
layers' own (kernelSize, stride, padding, dilation, groups, bias, ceilMode, p,
dim, ...); inChannels, numFeatures and inFeatures follow from the previous layer.
An optional "name" names a layer. A graph (residual adds, concatenations) lists
"nodes" instead of "layers", each naming the values it reads in "inputs"
(default: the node before it; "input" is the model's input), with the graph ops
add, mul, concat, reshape, pad, slice and clamp. See docs/models.md.

Counts are for the whole batch in the input shape. MACs = multiply-adds of
convolutions, linear layers and batch norm (one per value); bias adds, pooling
and activations count 0. FLOPs = 2 x MACs. See docs/summary.md.

Examples:
  simdnet summary                     LeNet on one 3x32x32 image
  simdnet summary --model lenet5-bn   LeNet-5 with batch norm on one 1x28x28 image
  simdnet summary --model block       two 3x3 convolutions on a 128x64x64 input
  simdnet summary --model resnet20    ResNet-20 for CIFAR-10: 269,722 parameters
  simdnet summary --model-file net.json --input 8,3,32,32 --json`;

/** Parser of --input: sizes >= 1 separated by commas, batch first ("1,3,32,32"). */
export function parseShape(value: string): number[] {
  if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(value))
    throw new InvalidArgumentError('expected sizes separated by commas, batch first, e.g. 1,3,32,32.');
  const shape = value.split(',').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 1))
    throw new InvalidArgumentError('expected sizes >= 1, e.g. 1,3,32,32.');
  return shape;
}

/** Adds the `summary` command to the program. */
export function registerSummary(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('summary')
    .description('print per-layer output shapes, parameters, multiply-adds (MACs) and activation memory of a model')
    .addOption(
      new Option('--model <name>', `a built-in model: ${describeModelNames()}; default lenet`)
        .choices(MODEL_NAMES)
        .conflicts(['modelFile', 'weights']),
    )
    .addOption(
      new Option('--model-file <file>', 'a model described in a JSON file (format below)')
        .argParser(nonEmpty)
        .conflicts('weights'),
    )
    .option('--weights <file>', 'a .safetensors file saved by `simdnet train` (the model is rebuilt from it)', nonEmpty)
    .option(
      '--input <shape>',
      "input shape, batch first, e.g. 1,3,32,32 (default: the model's own, batch 1)",
      parseShape,
    )
    .option('--json', 'print the counts as JSON (the object summary() returns) instead of a table')
    .addHelpText('after', MODEL_FILE_HELP)
    .action(async (opts: SummaryCommandOptions) => setExitCode(await runSummary(opts, io)));
}

/** Runs `simdnet summary` with parsed options; returns the exit code. */
export async function runSummary(opts: SummaryCommandOptions, io: CliIO): Promise<number> {
  const { model, input, label } = await resolveModel(opts);
  const [{ summary }, { formatSummary }, { formatShape }] = await Promise.all([
    import('../summary/summary'),
    import('../summary/format'),
    import('../tensor/shape'),
  ]);
  let result;
  try {
    result = summary(model, input);
  } catch (err) {
    // A shape the model cannot take is a bad --input; anything else is a runtime error.
    if (opts.input && err instanceof RangeError)
      throw new UsageError(`--input ${opts.input.join(',')} does not fit ${label}: ${err.message}`);
    throw err;
  }
  if (opts.json) {
    println(io.stdout, JSON.stringify(result, null, 2));
  } else {
    println(io.stdout, `model: ${label}, input ${formatShape(input)}`);
    println(io.stdout, formatSummary(result));
  }
  return EXIT_OK;
}

/** The model to summarise, its input shape (--input or the model's own) and a one-line description. */
async function resolveModel(opts: SummaryCommandOptions): Promise<{ model: Module; input: number[]; label: string }> {
  if (opts.modelFile !== undefined) return readModelFile(opts.modelFile, opts.input);
  if (opts.weights !== undefined) {
    const { model, input, label } = await readWeightsModel(opts.weights);
    const shape = opts.input ?? input;
    if (!shape) throw new UsageError(`--weights ${opts.weights}: the file does not say the input size; give --input`);
    return { model, input: shape, label };
  }
  const name = opts.model ?? 'lenet';
  const model = await buildBuiltinModel(name);
  const { description, input } = MODELS[name];
  const label = name === 'block' ? `block (${description})` : `${name} (${describeModule(model)})`;
  return { model, input: opts.input ?? [...input], label };
}
