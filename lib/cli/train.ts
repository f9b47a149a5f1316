// SPDX-License-Identifier: MIT
// `simdnet train`: LeNet on CIFAR-10 (LeNet-5 on MNIST/Fashion-MNIST), or a --model-file model, with Adam, per-epoch summaries
// and the weights saved as safetensors when the run finishes; stopping and resuming are train-resume.ts.
import * as fs from 'fs';
import { Command, Option } from 'commander';
import type { FitPosition } from '../train/trainer';
import { formatEpochLine } from '../train/fit-progress';
import type { CheckpointSettings } from '../train/checkpoint';
import { PROGRESS_MODES, type ProgressMode } from '../train/progress';
import {
  checkDataPath,
  checkOutputPath,
  DATA_HELP,
  DATASET_NAMES,
  datasetInfo,
  datasetMetadata,
  loadDataset,
  takeFirst,
  type DatasetName,
} from './data-path';
import { RECIPE_NAMES, RECIPES, type Recipe } from '../train/recipes';
import { HISTORY_KEY } from '../plot/training-curves';
import { threadsLabel } from './info';
import { EXIT_INTERRUPTED, EXIT_OK, println, UsageError, type CliIO } from './io';
import { integerAtLeast, nonEmpty, positiveNumber } from './options';

/** Parsed `simdnet train` options. */
export interface TrainCommandOptions {
  /** Default 'cifar10'. */
  dataset?: DatasetName;
  data: string;
  download?: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  out: string;
  /** Replace an existing --out file when the run finishes (an interrupted run never writes --out). */
  force?: boolean;
  history?: string;
  progress: ProgressMode;
  limit?: number;
  /** A named recipe (lib/train/recipes.ts); its epochs, lr and batch size give way to explicit flags. */
  recipe?: string;
  /** A JSON model spec (docs/models.md) that replaces the recipe's model; the rest of the recipe still applies. */
  modelFile?: string;
  /** Folder of the run's checkpoint (DIR/checkpoint.safetensors), saved every epoch and on Ctrl+C. */
  checkpoint?: string;
  /** Also save the checkpoint every N training steps (batches) within an epoch. */
  checkpointEvery?: number;
  /** Continue from the checkpoint in --checkpoint DIR (same settings required). */
  resume?: boolean;
  /** false (--no-weight-decay-on-norm-and-bias): no weight decay on normalisation weights and biases. Default true. */
  weightDecayOnNormAndBias?: boolean;
}

/** Adds the `train` command to the program. */
export function registerTrain(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('train')
    .description(
      'train LeNet on CIFAR-10 (LeNet-5 on MNIST or Fashion-MNIST), or a model described in a JSON file, with Adam and save the weights as safetensors',
    )
    .addOption(new Option('--dataset <name>', 'the dataset to train on').choices(DATASET_NAMES).default('cifar10'))
    .requiredOption('--data <path>', DATA_HELP, nonEmpty)
    .option(
      '--download',
      'download the dataset into --data when it holds none (CIFAR-10 163 MB, MNIST 11 MB, Fashion-MNIST 30 MB)',
    )
    .option('--epochs <n>', 'passes over the training set', integerAtLeast(1), 10)
    .option('--batch-size <n>', 'training images per batch', integerAtLeast(1), 64)
    .option('--lr <rate>', 'Adam learning rate', positiveNumber, 1e-3)
    .option('--seed <n>', 'seed of weight initialisation and shuffling', integerAtLeast(0), 0)
    .option(
      '--out <file>',
      'where to save the weights when the run finishes (an interrupted run saves FILE.partial.safetensors and a checkpoint instead)',
      nonEmpty,
      'model.safetensors',
    )
    .option('--force', 'replace --out if it exists (without it, an existing --out stops the command before training)')
    .option('--history <file>', 'write the per-epoch history as JSON here after every epoch', nonEmpty)
    .addOption(
      new Option('--progress <mode>', 'progress output on stderr: a bar on a terminal, log lines, or none')
        .choices(PROGRESS_MODES)
        .default('auto'),
    )
    .option('--limit <n>', 'use only the first N training images (for smoke tests)', integerAtLeast(1))
    .option(
      '--checkpoint <dir>',
      'save the full training state (weights, optimizer, schedule, RNG states, position) in DIR/checkpoint.safetensors after every epoch and on Ctrl+C',
      nonEmpty,
    )
    .option('--checkpoint-every <n>', 'with --checkpoint: also save every N training steps', integerAtLeast(1))
    .option(
      '--resume',
      'continue the run saved in --checkpoint DIR (the same settings; --epochs may be larger, to extend a finished run)',
    )
    .option(
      '--model-file <file>',
      "train the model described in this JSON file (docs/models.md) instead of the recipe's LeNet; the recipe's optimizer, schedule, augmentation and defaults still apply",
      nonEmpty,
    )
    .option(
      '--no-weight-decay-on-norm-and-bias',
      "no weight decay on BatchNorm/GroupNorm/LayerNorm weights and on biases (a parameter group with weight decay 0); the recipe's weight decay still applies to conv and linear weights",
    )
    .addOption(
      new Option(
        '--recipe <name>',
        `a tuned recipe: ${RECIPE_NAMES.map((n) => `${n} (${RECIPES[n].description})`).join('; ')}; --epochs, --lr and --batch-size given on the command line still win`,
      ).choices(RECIPE_NAMES),
    )
    .action(async (opts: TrainCommandOptions, cmd: Command) => {
      // A recipe's epochs, lr and batch size replace the defaults, not values the user typed.
      const recipe = opts.recipe === undefined ? undefined : RECIPES[opts.recipe];
      if (recipe !== undefined) {
        if (cmd.getOptionValueSource('epochs') !== 'cli') opts.epochs = recipe.epochs;
        if (cmd.getOptionValueSource('lr') !== 'cli') opts.lr = recipe.lr;
        if (cmd.getOptionValueSource('batchSize') !== 'cli') opts.batchSize = recipe.batchSize;
      }
      setExitCode(await runTrain(opts, io));
    });
}

/** Runs `simdnet train` with parsed options; returns the exit code (throws on errors, which the caller reports). */
export async function runTrain(opts: TrainCommandOptions, io: CliIO): Promise<number> {
  // Every path is checked before the (slow) data loading starts: a run is never lost to a bad --out at its end.
  const dataset = opts.dataset ?? 'cifar10';
  const loc = checkDataPath(opts.data, { download: opts.download === true, dataset });
  const out = checkOutputPath('--out', opts.out);
  if (opts.force !== true && fs.existsSync(out))
    throw new UsageError(
      `--out: ${opts.out} already exists; pass --force to replace it when training finishes, or choose another --out`,
    );
  const historyPath = opts.history === undefined ? undefined : checkOutputPath('--history', opts.history);
  const info = datasetInfo(loc);
  const { title, sampleShape, numClasses } = info;
  // A model file is read and checked against the dataset before the data loads (and before a checkpoint folder is made).
  const custom =
    opts.modelFile === undefined
      ? undefined
      : await (await import('./model-source')).readTrainingModelFile(opts.modelFile, info, opts.seed);
  // The addon loads here, not at startup, so --help works without it.
  const resuming = await import('./train-resume');
  const checkpointFile = resuming.checkCheckpointOptions(opts);
  const [
    { DataLoader },
    { Adam },
    { AdamW },
    { manualSeed },
    { fit },
    { modelMetadata },
    { saveSafetensors },
    { buildRecipe },
    ckpt,
  ] = await Promise.all([
    import('../data/loader'),
    import('../optim/adam'),
    import('../optim/adamw'),
    import('../random'),
    import('../train/trainer'),
    import('../train/saved-model'),
    import('../io/safetensors'),
    import('./recipe'),
    import('../train/checkpoint'),
  ]);
  // Read before the data loads, so a bad or missing checkpoint fails fast.
  const checkpoint =
    opts.resume === true && checkpointFile !== undefined ? ckpt.readCheckpoint(checkpointFile) : undefined;
  const log = opts.progress === 'none' ? undefined : io.stderr;
  // Reading CIFAR-10 takes seconds: say so, rather than print nothing.
  if (log !== undefined && !loc.download) println(log, `loading ${title} from ${loc.root}`);
  const fullTrain = await loadDataset(loc, true, log);
  const test = await loadDataset(loc, false, log);
  const train = opts.limit === undefined ? fullTrain : takeFirst(fullTrain, opts.limit);
  if (io.signal?.aborted) {
    println(io.stdout, 'interrupted before training started; nothing saved');
    return EXIT_INTERRUPTED;
  }
  println(
    io.stdout,
    `data: ${title}, ${train.length} training images${train.length < fullTrain.length ? ` (first ${train.length} of ${fullTrain.length})` : ''}, ${test.length} test images`,
  );

  manualSeed(opts.seed);
  const recipe: Recipe = RECIPES[opts.recipe ?? 'lenet'];
  // CIFAR-10: LeNet; 28x28 grey images: LeNet-5 (conv1 padded by 2, so 61,706 parameters); or the --model-file model.
  const { model, modelName, transform, lossFn } = buildRecipe(
    recipe,
    sampleShape,
    numClasses,
    custom && { model: custom.model, name: opts.modelFile as string },
  );
  const lastType =
    custom === undefined ? '' : lastLayerType('layers' in custom.spec ? custom.spec.layers : custom.spec.nodes);
  if (custom !== undefined && /^(softmax|sigmoid)$/.test(lastType)) {
    println(
      io.stderr,
      `note: ${opts.modelFile} ends in ${lastType}, but training applies cross-entropy to the model's output as logits; end with the linear layer (or logsoftmax) instead`,
    );
  }
  // Without weight decay on norms and biases: two parameter groups (PyTorch's recipe), else every parameter in one.
  const decayAll = recipe.weightDecayOnNormAndBias && opts.weightDecayOnNormAndBias !== false;
  const params = decayAll ? model.parameters() : (await import('../optim/split-weight-decay')).splitWeightDecay(model);
  const optimizer =
    recipe.optimizer === 'sgd'
      ? new (await import('../optim/sgd')).SGD(params, {
          lr: opts.lr,
          momentum: recipe.momentum,
          weightDecay: recipe.weightDecay,
        })
      : recipe.optimizer === 'adamw'
        ? new AdamW(params, { lr: opts.lr, weightDecay: recipe.weightDecay })
        : new Adam(params, { lr: opts.lr });
  const schedule = recipe.cosine
    ? new (await import('../optim/lr-scheduler')).CosineAnnealingLR(optimizer, { tMax: opts.epochs })
    : undefined;
  const trainLoader = new DataLoader(train, { batchSize: opts.batchSize, shuffle: true, seed: opts.seed, transform });
  const testLoader = new DataLoader(test, { batchSize: 256 });
  const extras = [
    recipe.init === 'he' ? 'He initialisation' : '',
    recipe.cosine ? 'cosine schedule' : '',
    recipe.flip ? 'flips' : '',
    recipe.cropPadding > 0 ? `crops (padding ${recipe.cropPadding})` : '',
    recipe.cutout > 0 ? `cutout ${recipe.cutout}` : '',
    recipe.labelSmoothing > 0 ? `label smoothing ${recipe.labelSmoothing}` : '',
  ].filter(Boolean);
  const decayNote = decayAll ? '' : ', none on norms and biases';
  const optName =
    recipe.optimizer === 'sgd'
      ? `SGD lr ${opts.lr} momentum ${recipe.momentum} weight decay ${recipe.weightDecay}${decayNote}`
      : recipe.optimizer === 'adamw'
        ? `AdamW lr ${opts.lr} weight decay ${recipe.weightDecay}${decayNote}`
        : `Adam lr ${opts.lr}`;
  const kernels = (await import('../native')).native.kernelInfo();
  println(
    io.stdout,
    `model: ${modelName} (${model.numParameters()} parameters), ${optName}${extras.length ? ` (${extras.join(', ')})` : ''}, batch size ${opts.batchSize}, ${opts.epochs} epochs, seed ${opts.seed}; isa ${kernels.isa}, ${threadsLabel(kernels)}`,
  );

  const settings: CheckpointSettings = {
    dataset,
    recipe: opts.recipe ?? 'lenet',
    seed: opts.seed,
    batchSize: opts.batchSize,
    epochs: opts.epochs,
    lr: opts.lr,
    limit: opts.limit ?? null,
    // The normalised spec: resuming with another model file is refused by name, not by a weight-shape error.
    ...(custom === undefined ? {} : { model: JSON.stringify(custom.spec) }),
    // Only when off, so checkpoints of runs without the flag keep their settings.
    ...(decayAll ? {} : { weightDecayOnNormAndBias: false }),
  };
  const state = { model, optimizer, scheduler: schedule, settings };
  let resumeFrom: FitPosition | undefined;
  if (checkpoint !== undefined) {
    // The cosine schedule anneals over exactly --epochs, so only runs without it may change --epochs.
    const note = resuming.checkResumeSettings(checkpoint, settings, opts, recipe.cosine);
    resumeFrom = ckpt.restoreCheckpoint(checkpoint, state);
    println(io.stdout, `resumed from ${checkpointFile} at epoch ${resumeFrom.epoch}, batch ${resumeFrom.batch}`);
    if (note !== undefined) println(io.stdout, note);
  }
  // Every position fit() reports is kept: when it stops, the last one is where the run resumes.
  let last: FitPosition | undefined;
  const checkpointHook = {
    every: opts.checkpointEvery,
    save: (position: FitPosition) => {
      last = position;
      if (checkpointFile !== undefined) ckpt.saveCheckpoint(checkpointFile, state, position);
    },
  };

  const history = await fit(model, {
    trainLoader,
    testLoader,
    optimizer,
    lossFn,
    epochs: opts.epochs,
    progress: opts.progress,
    progressStream: io.stderr,
    epochSummary: false, // the epoch line goes to stdout (onEpochEnd)
    historyPath,
    signal: io.signal,
    resumeFrom,
    checkpoint: checkpointHook,
    onEpochEnd: (record) => {
      schedule?.step();
      println(io.stdout, formatEpochLine(record, opts.epochs));
    },
  });
  // saveModel's metadata (architecture and config) plus the dataset, so `eval` needs no --dataset.
  // The per-epoch history too, so `simdnet eval --plot` can draw the training curves from this file alone.
  const metadata = {
    ...modelMetadata(model),
    ...datasetMetadata(dataset, fullTrain.classes),
    [HISTORY_KEY]: JSON.stringify(history.epochs),
  };
  if (!history.stopped) {
    saveSafetensors(out, model.stateDict(), metadata);
    println(io.stdout, `saved the weights to ${opts.out}`);
    return EXIT_OK;
  }
  // Stopped (Ctrl+C, SIGTERM): --out, which may hold a finished model, is left alone. The weights so far go to a file
  // named partial, and the run to a checkpoint: --checkpoint DIR (fit() saved it), else a folder next to --out.
  const partial = resuming.partialWeightsPath(opts.out);
  saveSafetensors(partial, model.stateDict(), metadata);
  let dir = opts.checkpoint;
  if (dir === undefined && last !== undefined) {
    dir = resuming.interruptedCheckpointDir(opts.out);
    fs.mkdirSync(dir, { recursive: true });
    ckpt.saveCheckpoint(ckpt.checkpointPath(dir), state, last);
  }
  const at = history.stoppedAt;
  const where =
    at === undefined
      ? ''
      : at.batch === 0
        ? ` before epoch ${at.epoch}`
        : ` in epoch ${at.epoch} after ${at.batch} batches`;
  println(io.stdout, `stopped${where}; ${opts.out} not written (the run did not finish)`);
  println(
    io.stdout,
    `saved the weights so far to ${partial}${dir === undefined ? '' : ` and the run to ${ckpt.checkpointPath(dir)}`}`,
  );
  if (dir !== undefined) println(io.stdout, `resume with: ${resuming.resumeCommand(opts, dir)}`);
  return EXIT_INTERRUPTED;
}

/** Type of the last leaf layer of a normalised spec's layers or nodes ("" for none). */
function lastLayerType(layers: readonly { type: string; layers?: unknown; nodes?: unknown }[]): string {
  const last = layers[layers.length - 1];
  if (last === undefined) return '';
  if (last.type === 'sequential' && Array.isArray(last.layers)) return lastLayerType(last.layers);
  return last.type === 'graph' && Array.isArray(last.nodes) ? lastLayerType(last.nodes) : last.type;
}
