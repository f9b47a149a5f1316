// SPDX-License-Identifier: MIT
// `simdnet train` runs that stop and go on: the --checkpoint/--resume checks (settings, --epochs), what an interrupted
// run saves (never --out: a partial weights file and a checkpoint), and the command that resumes it. The training is train.ts.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { settingsMismatches, type Checkpoint, type CheckpointSettings } from '../train/checkpoint';
import { checkWritableFolder } from './data-path';
import { UsageError } from './io';

/** The options of `simdnet train` this file reads (a subset of TrainCommandOptions). */
export interface ResumeOptions {
  data: string;
  dataset?: string;
  recipe?: string;
  modelFile?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  limit?: number;
  out: string;
  history?: string;
  force?: boolean;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: boolean;
  weightDecayOnNormAndBias?: boolean;
}

/** The flag of each checkpoint setting, for mismatch messages. */
const SETTING_FLAGS: Readonly<Record<string, string>> = {
  dataset: '--dataset',
  recipe: '--recipe',
  seed: '--seed',
  batchSize: '--batch-size',
  epochs: '--epochs',
  lr: '--lr',
  limit: '--limit',
  model: '--model-file',
  weightDecayOnNormAndBias: '--no-weight-decay-on-norm-and-bias',
};

function formatSetting(key: string, v: unknown): string {
  if (v === null || v === undefined) return '(not given)';
  if (key === 'weightDecayOnNormAndBias') return 'given'; // saved only when the flag was given
  // A model spec is long JSON: a short digest tells two specs apart.
  if (key === 'model' && typeof v === 'string')
    return `a model spec (sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 12)})`;
  return String(v);
}

/**
 * Checks --checkpoint, --checkpoint-every and --resume before anything slow; creates the folder and checks that it is
 * writable. Returns the checkpoint file, or undefined without --checkpoint.
 * @throws UsageError for a flag without --checkpoint, a folder that is a file, missing or read-only, a checkpoint
 * that is there without --resume or missing with it.
 */
export function checkCheckpointOptions(opts: ResumeOptions): string | undefined {
  if (opts.checkpoint === undefined) {
    if (opts.checkpointEvery !== undefined) throw new UsageError('--checkpoint-every needs --checkpoint DIR');
    if (opts.resume === true) throw new UsageError('--resume needs --checkpoint DIR');
    return undefined;
  }
  const dir = path.resolve(opts.checkpoint);
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory())
    throw new UsageError(`--checkpoint: ${opts.checkpoint} is not a folder`);
  if (stat === undefined) {
    if (!fs.statSync(path.dirname(dir), { throwIfNoEntry: false })?.isDirectory())
      throw new UsageError(`--checkpoint: folder ${path.dirname(opts.checkpoint)} does not exist`);
    checkWritableFolder('--checkpoint', path.dirname(dir), path.dirname(opts.checkpoint));
    fs.mkdirSync(dir);
  }
  checkWritableFolder('--checkpoint', dir, opts.checkpoint);
  const file = path.join(dir, 'checkpoint.safetensors');
  const exists = fs.existsSync(file);
  if (opts.resume === true && !exists)
    throw new UsageError(`--resume: ${opts.checkpoint} holds no checkpoint (checkpoint.safetensors)`);
  if (opts.resume !== true && exists)
    throw new UsageError(
      `--checkpoint: ${opts.checkpoint} already holds a checkpoint; pass --resume to continue it, or use another folder`,
    );
  return file;
}

/**
 * Checks that `--resume` continues the run the checkpoint holds: every setting equal except --epochs, which may grow
 * (or shrink to no fewer epochs than the run has started) unless the schedule depends on it (`epochBound`: a cosine
 * schedule anneals over exactly the run's epochs). Returns a note to print when --epochs changed.
 * @throws UsageError naming each mismatch.
 */
export function checkResumeSettings(
  ck: Checkpoint,
  settings: CheckpointSettings,
  opts: ResumeOptions,
  epochBound: boolean,
): string | undefined {
  const saved = ck.meta.settings;
  const diffs = settingsMismatches(saved, settings).filter(([k]) => k !== 'epochs');
  if (diffs.length > 0) {
    const list = diffs
      .map(([k, was, now]) => `${SETTING_FLAGS[k] ?? k} was ${formatSetting(k, was)}, now ${formatSetting(k, now)}`)
      .join('; ');
    throw new UsageError(
      `--resume: ${opts.checkpoint} holds a run with other settings (${list}); run with the same settings, or use another --checkpoint folder`,
    );
  }
  const was = saved.epochs;
  const now = opts.epochs;
  if (was === now) return undefined;
  if (epochBound)
    throw new UsageError(
      `--epochs ${now}: the run in ${opts.checkpoint} anneals its learning rate (cosine schedule) over ${String(was)} epochs, so it cannot be extended or shortened; pass --epochs ${String(was)}, or start a new run`,
    );
  const { epoch, batch } = ck.meta.position;
  const started = batch > 0 ? epoch : epoch - 1;
  if (now < started)
    throw new UsageError(
      `--epochs ${now}: the run in ${opts.checkpoint} has ${batch > 0 ? `started epoch ${epoch}` : `finished ${started} epochs`}; pass --epochs ${started} or more`,
    );
  return `${typeof was === 'number' && now > was ? 'extending' : 'changing'} the run from ${String(was)} to ${now} epochs`;
}

/** Where an interrupted run saves, next to --out: "model.safetensors" -> "model.partial.safetensors". */
export function partialWeightsPath(out: string): string {
  return `${stem(out)}.partial.safetensors`;
}

/**
 * The checkpoint folder an interrupted run without --checkpoint saves into: "model.checkpoint" next to --out, or
 * "model.checkpoint-2", ... when that one already holds another run's checkpoint (it is never replaced).
 */
export function interruptedCheckpointDir(out: string): string {
  const base = `${stem(out)}.checkpoint`;
  for (let i = 1; i <= 1000; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    if (!fs.existsSync(path.join(dir, 'checkpoint.safetensors'))) return dir;
  }
  throw new Error(`${base}-1000: a thousand interrupted runs are kept next to ${out}; remove some`);
}

/** The path without a .safetensors extension. */
function stem(file: string): string {
  return file.replace(/\.safetensors$/i, '');
}

/**
 * The `simdnet train` command line that resumes the run from `checkpointDir`: every setting explicit (so a recipe's
 * defaults cannot differ), the same --out and --history, then --resume.
 *
 * @example
 * resumeCommand({ data: 'data', epochs: 10, batchSize: 64, lr: 0.001, seed: 0, out: 'm.safetensors' }, 'm.checkpoint');
 * // "simdnet train --data data --epochs 10 --batch-size 64 --lr 0.001 --seed 0 --out m.safetensors --checkpoint m.checkpoint --resume"
 */
export function resumeCommand(opts: ResumeOptions, checkpointDir: string): string {
  const args = ['simdnet', 'train', '--data', opts.data];
  if (opts.dataset !== undefined && opts.dataset !== 'cifar10') args.push('--dataset', opts.dataset);
  if (opts.recipe !== undefined) args.push('--recipe', opts.recipe);
  if (opts.modelFile !== undefined) args.push('--model-file', opts.modelFile);
  args.push('--epochs', String(opts.epochs), '--batch-size', String(opts.batchSize), '--lr', String(opts.lr));
  args.push('--seed', String(opts.seed));
  if (opts.limit !== undefined) args.push('--limit', String(opts.limit));
  if (opts.weightDecayOnNormAndBias === false) args.push('--no-weight-decay-on-norm-and-bias');
  args.push('--out', opts.out);
  if (opts.force === true) args.push('--force');
  if (opts.history !== undefined) args.push('--history', opts.history);
  args.push('--checkpoint', checkpointDir);
  if (opts.checkpointEvery !== undefined) args.push('--checkpoint-every', String(opts.checkpointEvery));
  args.push('--resume');
  return args.map(shellQuote).join(' ');
}

/** A word as a POSIX shell reads it back: as is when safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
