// SPDX-License-Identifier: MIT
// The bench's command line and which cases a run takes (sections, CNN models, batch sizes, systems); pure: no timing, no I/O.

/** LeNet training and inference, the kernel cases, the ResNet-20/VGG cases, the busy-machine thread cases. */
export const SECTIONS = ['train', 'infer', 'kernels', 'cnn', 'contention'] as const;
export type Section = (typeof SECTIONS)[number];

/** The CNNs past LeNet: ResNet-20 (built in) and the VGG-style yardstick (bench/vgg_cifar.json). */
export const CNN_MODELS = ['resnet20', 'vgg'] as const;
export type CnnModelName = (typeof CNN_MODELS)[number];

export const CNN_TRAIN_BATCHES = [64, 128] as const;
export const CNN_INFER_BATCHES = [1, 64] as const;
/** The systems of a CNN case, in table order: PyTorch runs twice, default (NCHW) and channels_last layouts. */
export const CNN_SYSTEMS = ['simdnet', 'pytorch', 'pytorch-cl', 'onnxruntime', 'tfjs-wasm', 'tfjs-cpu'] as const;
export type CnnSystem = (typeof CNN_SYSTEMS)[number];

/** What issue 13 compares simdnet-wasm with: tfjs-wasm cannot train a CNN, so training is against tfjs-cpu. */
export const WASM_RIVALS: Readonly<Record<'train' | 'infer', string>> = { train: 'tfjs-cpu', infer: 'tfjs-wasm' };

export const USAGE =
  'npm run bench -- [--quick] [--json FILE (default build/bench-results.json)] ' +
  `[--only ${SECTIONS.join(',')}] [--models ${CNN_MODELS.join(',')}]`;

export class UsageError extends Error {}

export interface BenchArgs {
  quick: boolean;
  json: string;
  only: Set<Section>;
  models: CnnModelName[];
  help: boolean;
}

/** Names in a comma-separated list, each one of `allowed` (duplicates dropped, order kept). */
function pickList<T extends string>(option: string, value: string, allowed: readonly T[]): T[] {
  const names = value.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !(allowed as readonly string[]).includes(n));
  if (bad.length) throw new UsageError(`bench: ${option} takes ${allowed.join(', ')}; got ${bad.join(', ')}`);
  return [...new Set(names as T[])];
}

/**
 * Parses the bench's arguments; `defaultJson` is the JSON path without --json.
 * @throws UsageError naming the option for an unknown option, a missing value or an unknown name.
 */
export function parseArgs(argv: readonly string[], defaultJson: string): BenchArgs {
  const out: BenchArgs = {
    quick: false,
    json: defaultJson,
    only: new Set<Section>(SECTIONS),
    models: [...CNN_MODELS],
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--quick') out.quick = true;
    else if (a === '--json') out.json = value();
    else if (a === '--only') out.only = new Set(pickList('--only', value(), SECTIONS));
    else if (a === '--models') out.models = pickList('--models', value(), CNN_MODELS);
    else if (a === '--help' || a === '-h') out.help = true;
    else throw new UsageError(`bench: unknown option ${a} (try --help)`);
  }
  return out;
}

/** One CNN case: a model, train or infer, a batch size and a system. */
export interface CnnCase {
  model: CnnModelName;
  case: 'train' | 'infer';
  batch: number;
  system: CnnSystem;
}

/** Why a system does not run a case, or null when it runs it. */
export function cnnSkipReason(c: Omit<CnnCase, 'model'>, quick: boolean): string | null {
  if (c.case === 'train' && c.system === 'onnxruntime') return 'inference only';
  if (c.case === 'train' && c.system === 'tfjs-wasm') return 'cannot train: no wasm kernel for Conv2DBackpropFilter';
  if (c.case === 'train' && c.system === 'tfjs-cpu')
    return 'not run: a step would take minutes (LeNet, 60x fewer multiply-adds, takes 30 s at batch 256)';
  if (quick && c.system === 'tfjs-cpu' && c.batch > 1) return 'in --quick (one call takes about 10 s)';
  return null;
}

/** Every CNN case of a run, model by model, in table order (train batches, then infer batches; systems in order). */
export function cnnPlan(models: readonly CnnModelName[]): CnnCase[] {
  const out: CnnCase[] = [];
  for (const model of models) {
    const cases = [
      ...CNN_TRAIN_BATCHES.map((batch) => ({ case: 'train' as const, batch })),
      ...CNN_INFER_BATCHES.map((batch) => ({ case: 'infer' as const, batch })),
    ];
    for (const c of cases) for (const system of CNN_SYSTEMS) out.push({ model, ...c, system });
  }
  return out;
}

/** The thread settings of the contention case: the default (null), then fixed counts. */
export const CONTENTION_THREADS: readonly (number | null)[] = [null, 1, 2];
/**
 * Rounds of the contention case (--quick: 1). Each setting's row is its median round, and each round runs the
 * settings in another order (contentionOrder), so no setting always runs first after the busy loop starts, and the
 * best fixed count is not the larger of two single draws. In session 17's single-round runs the default, always first,
 * ran 2-12% slower than `--threads 2` right after it while using 2 threads itself (docs/threads.md).
 */
export const CONTENTION_ROUNDS = 3;

/** CONTENTION_THREADS rotated by `round`: round 0 is the listed order (the default first). */
export function contentionOrder(round: number): (number | null)[] {
  const n = CONTENTION_THREADS.length;
  return CONTENTION_THREADS.map((_, i) => CONTENTION_THREADS[(i + round) % n]);
}
/** The training cases measured beside a busy loop: LeNet at batch 64 and ResNet-20 at batch 128. */
export const CONTENTION_CASES = [
  { model: 'lenet', batch: 64 },
  { model: 'resnet20', batch: 128 },
] as const;
