// SPDX-License-Identifier: MIT
// The CNN section: ResNet-20 and the VGG-style net, trained (SGD, batch 64 and 128) and run (batch 1 and 64) in
// simdnet, PyTorch (default and channels_last), onnxruntime-node and tfjs in one run, each checked against simdnet's
// result first. Which cases run is bench/options.ts; the tables are bench/cnn-report.ts.
import * as fs from 'fs';
import * as path from 'path';
import { trainStep } from '../lib/bench/cases';
import { Tensor } from '../lib/tensor/tensor';
import { type CaseResult, inferCase, trainCase } from './cases';
import { type CnnModel, prepareCnn, sgd, SGD_OPTIONS, VGG_FILE, writeCnnData } from './cnn-models';
import {
  type CnnCase,
  type CnnModelName,
  cnnPlan,
  cnnSkipReason,
  CNN_INFER_BATCHES,
  CNN_TRAIN_BATCHES,
  type CnnSystem,
} from './options';
import { ortInfer, ortSession } from './ort';
import { runTorchScript, type PytorchRun } from './pytorch';
import { buildDir } from './setup';
import { TfCnn } from './tfjs-cnn';
import { toNhwc, useBackend, type TfBackend } from './tfjs';
import type { TimingOptions } from './timing';

/** Shorter than the LeNet presets: a ResNet-20 training step at batch 128 takes about half a second. */
export const CNN_QUICK: TimingOptions = { reps: 3, budgetMs: 1000, warmMs: 200, sampleMs: 50, slowReps: 1 };
export const CNN_FULL: TimingOptions = { reps: 7, budgetMs: 2500, warmMs: 500, sampleMs: 100, slowReps: 2 };

const batchOf = (images: Float32Array, n: number): Tensor => new Tensor(images.subarray(0, n * 3072), [n, 3, 32, 32]);

export interface CnnSectionInput {
  images: Float32Array;
  targets: Int32Array;
  threads: number;
  quick: boolean;
  /** Records a result and prints its line. */
  add: (r: CaseResult) => void;
  /** Records a result already printed (by pytorch_cnn.py). */
  record: (r: CaseResult) => void;
}

/** Records the cases the plan does not run (with the reason) and returns the ones it does, per system. */
function runnable(plan: CnnCase[], quick: boolean, add: (r: CaseResult) => void): Set<string> {
  const run = new Set<string>();
  for (const c of plan) {
    const reason = cnnSkipReason(c, quick);
    if (reason === null) run.add(`${c.system}:${c.case}:${c.batch}`);
    else {
      const status = reason.startsWith('cannot train') ? 'cannot train' : 'skipped';
      add({ model: c.model, case: c.case, batch: c.batch, system: c.system, imagesPerSec: null, status, note: reason });
    }
  }
  return run;
}

function errorAll(m: CnnModel, system: CnnSystem, run: Set<string>, note: string, add: (r: CaseResult) => void) {
  for (const key of run) {
    const [s, kind, batch] = key.split(':');
    if (s !== system) continue;
    add({
      model: m.name,
      case: kind as 'train' | 'infer',
      batch: Number(batch),
      system,
      imagesPerSec: null,
      status: 'error',
      note,
    });
  }
}

async function simdnetCases(m: CnnModel, input: CnnSectionInput, opt: TimingOptions): Promise<void> {
  const { images, targets, add } = input;
  for (const b of CNN_TRAIN_BATCHES) {
    const x = batchOf(images, b);
    add(
      await trainCase(
        'simdnet',
        b,
        m.reference,
        opt,
        async () => ({ fn: trainStep(m.make(), x, targets.subarray(0, b), sgd) }),
        m.name,
      ),
    );
  }
  const model = m.make().eval();
  for (const b of CNN_INFER_BATCHES) {
    const x = batchOf(images, b);
    add(await inferCase('simdnet', b, m.reference, opt, async () => ({ fn: () => model.predict(x).data }), m.name));
  }
}

async function ortCases(m: CnnModel, input: CnnSectionInput, opt: TimingOptions, run: Set<string>): Promise<string> {
  try {
    const { ort, session } = await ortSession(input.threads, m.onnx);
    for (const b of CNN_INFER_BATCHES)
      input.add(
        await inferCase(
          'onnxruntime',
          b,
          m.reference,
          opt,
          async () => ortInfer(ort, session, input.images, b),
          m.name,
        ),
      );
    await session.release();
    return `onnxruntime-node, simdnet's ONNX export, CPU provider, ${input.threads} intra-op threads`;
  } catch (err) {
    const note = `unavailable: ${(err as Error).message.split('\n')[0]}`;
    errorAll(m, 'onnxruntime', run, note, input.add);
    return note;
  }
}

async function tfjsCases(
  backend: TfBackend,
  m: CnnModel,
  input: CnnSectionInput,
  opt: TimingOptions,
  run: Set<string>,
): Promise<string> {
  const system: CnnSystem = `tfjs-${backend}`;
  let desc: string;
  try {
    desc = await useBackend(backend);
  } catch (err) {
    const note = (err as Error).message;
    errorAll(m, system, run, note, input.add);
    return note;
  }
  const spec = m.name === 'vgg' ? JSON.parse(fs.readFileSync(VGG_FILE, 'utf8')).layers : undefined;
  const model = new TfCnn(m.weights, spec);
  // tfjs-cpu takes seconds per call: one sample (the warm-up call) keeps a full run near 10 minutes.
  const timing = backend === 'cpu' ? { ...opt, slowReps: 1 } : opt;
  for (const b of CNN_INFER_BATCHES) {
    if (!run.has(`${system}:infer:${b}`)) continue;
    input.add(
      await inferCase(
        system,
        b,
        m.reference,
        timing,
        async () => {
          const x = toNhwc(input.images, b);
          return { fn: () => model.infer(x), dispose: () => x.dispose() };
        },
        m.name,
      ),
    );
  }
  model.dispose();
  return `${desc}, the net in tfjs-core ops (inference only)`;
}

function pytorchCases(m: CnnModel, input: CnnSectionInput, opt: TimingOptions, run: Set<string>): PytorchRun {
  const dataFile = path.join(buildDir, `${m.name}-data.safetensors`);
  writeCnnData(m, input.images, input.targets, dataFile);
  const py = runTorchScript('pytorch_cnn.py', [
    '--model',
    m.name,
    '--weights',
    m.weightsFile,
    '--data',
    dataFile,
    '--threads',
    String(input.threads),
    '--train',
    CNN_TRAIN_BATCHES.join(','),
    '--infer',
    CNN_INFER_BATCHES.join(','),
    '--lr',
    String(SGD_OPTIONS.lr),
    '--momentum',
    String(SGD_OPTIONS.momentum),
    '--tol',
    String(m.reference.tol),
    '--timing',
    JSON.stringify(opt),
  ]);
  for (const r of py.results) input.record(r); // pytorch_cnn.py printed each line itself
  if (py.note) {
    errorAll(m, 'pytorch', run, py.note, input.add);
    errorAll(m, 'pytorch-cl', run, py.note, input.add);
  }
  return py;
}

/** Runs every CNN case of `models`; returns the prepared models (for MACs and titles) and each system's setup. */
export async function cnnSection(
  models: readonly CnnModelName[],
  input: CnnSectionInput,
): Promise<{ models: CnnModel[]; systems: Record<string, string> }> {
  const opt = input.quick ? CNN_QUICK : CNN_FULL;
  const prepared: CnnModel[] = [];
  const systems: Record<string, string> = {};
  for (const name of models) {
    console.error(`  ${name}: weights, BatchNorm calibration, reference logits, ONNX export...`);
    const m = prepareCnn(name, input.images, input.targets);
    prepared.push(m);
    const run = runnable(cnnPlan([name]), input.quick, input.add);
    await simdnetCases(m, input, opt);
    systems.onnxruntime = await ortCases(m, input, opt, run);
    systems['tfjs-wasm'] = await tfjsCases('wasm', m, input, opt, run);
    systems['tfjs-cpu'] = await tfjsCases('cpu', m, input, opt, run);
    const py = pytorchCases(m, input, opt, run);
    systems.pytorch =
      py.note ??
      `torch ${py.torch} (${py.python}), ${py.threads} threads, mkldnn ${py.mkldnn}; SGD lr 0.01 momentum 0.9`;
  }
  systems.simdnet = `SGD(lr ${SGD_OPTIONS.lr}, momentum ${SGD_OPTIONS.momentum}) step as fit() takes it; model.predict for inference`;
  return { models: prepared, systems };
}
