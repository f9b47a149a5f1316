// SPDX-License-Identifier: MIT
// Dynamic batching behind predictAsync(): concurrent calls on one model with the same sample shape run
// as one native batch on the thread pool, and each caller gets a copy of its own rows. Weight versions
// live in program-snapshot.ts; the programs themselves in program.ts.
import { checkInt, checkNumber, describe } from '../check';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import type { Module } from './module';
import type { CompiledProgram } from './program';
import { sampleKey } from './program-run';
import { currentSnapshot } from './program-snapshot';

/** How predictAsync() groups concurrent calls (setBatching). */
export interface BatchingOptions {
  /**
   * Most rows (images) in one batch. Default 32. A call with more rows than this runs alone; calls
   * are never split.
   */
  maxBatchSize?: number;
  /**
   * How long the oldest waiting call may wait for company while no batch runs, in microseconds.
   * Default 0: a batch starts once the event loop has taken in what arrived with it. While a batch
   * runs, calls queue up and join the next one whatever this is.
   */
  maxWaitMicros?: number;
  /** Called after each batch (for metrics). Exceptions it throws are ignored. */
  onBatch?: (batch: BatchReport) => void;
}

/** One finished batch, as onBatch sees it. */
export interface BatchReport {
  /** The sample shape every call of the batch has (the input shape without the batch dimension). */
  shape: number[];
  rows: number;
  calls: number;
  /** Time from dispatch to results, in microseconds. */
  micros: number;
  /** False when the batch failed (every call in it was rejected with the error). */
  ok: boolean;
}

/** Defaults measured on a 2-core machine with LeNet (docs/serving.md, bench/serve.ts). */
export const DEFAULT_MAX_BATCH_SIZE = 32;
export const DEFAULT_MAX_WAIT_MICROS = 0;
/** Bounds of the options: a day of waiting, and batches far beyond any useful size. */
const MAX_WAIT_MICROS = 86_400e6;
const MAX_BATCH_SIZE = 1 << 20;
/** Largest staging array kept for reuse once its queue empties (16 MB); larger ones go to the garbage collector. */
const MAX_SPARE_FLOATS = 4 << 20;

/** A model whose eval-mode forward can run as a native program (Sequential, Graph and their subclasses). */
interface ProgramModel {
  /** The native program for this input's sample shape, or null; throws on a malformed input. */
  inferenceProgram(input: Tensor): CompiledProgram | null;
}

interface Call {
  rows: number;
  arrived: number;
  resolve: (t: Tensor) => void;
  reject: (err: unknown) => void;
}

/**
 * Calls waiting for the same program (one sample shape), oldest first. Their inputs are copied, in call order, into
 * `staging`, so a batch (always the oldest calls) is its first rows: no array per call, none per batch.
 */
interface Queue {
  shape: number[];
  program: CompiledProgram;
  calls: Call[];
  rows: number;
  /** Floats per row. */
  rowSize: number;
  staging: Float32Array;
  /** Floats of `staging` in use (the waiting calls' inputs). */
  used: number;
}

const batchers = new WeakMap<Module, Batcher>();

/**
 * Sets how `model`'s predictAsync() batches concurrent calls (see BatchingOptions); options left out
 * keep their current value. Returns the options in force.
 *
 * @example
 * setBatching(net, { maxBatchSize: 64, maxWaitMicros: 200 });
 */
export function setBatching(model: Module, options: BatchingOptions): Required<Omit<BatchingOptions, 'onBatch'>> {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`setBatching: options must be an object, got ${describe(options)}`);
  const b = batcherOf(model);
  if (options.maxBatchSize !== undefined) {
    b.maxBatchSize = checkInt('setBatching: maxBatchSize', options.maxBatchSize);
    if (b.maxBatchSize > MAX_BATCH_SIZE)
      throw new RangeError(`setBatching: maxBatchSize must be at most ${MAX_BATCH_SIZE}, got ${b.maxBatchSize}`);
  }
  if (options.maxWaitMicros !== undefined)
    b.maxWaitMicros = checkNumber('setBatching: maxWaitMicros', options.maxWaitMicros, {
      min: 0,
      max: MAX_WAIT_MICROS,
    });
  if (options.onBatch !== undefined) {
    if (typeof options.onBatch !== 'function')
      throw new TypeError(`setBatching: onBatch must be a function, got ${describe(options.onBatch)}`);
    b.onBatch = options.onBatch;
  }
  return { maxBatchSize: b.maxBatchSize, maxWaitMicros: b.maxWaitMicros };
}

/**
 * predictAsync() for any module: models with a native program join the model's batcher; others run
 * predict() now, on the calling thread.
 */
export function predictBatched(model: Module, input: Tensor): Promise<Tensor> {
  const source = model as unknown as Partial<ProgramModel>;
  const program = typeof source.inferenceProgram === 'function' ? source.inferenceProgram(input) : null;
  if (program === null) return Promise.resolve(model.predict(input));
  return batcherOf(model).submit(input, program);
}

function batcherOf(model: Module): Batcher {
  let b = batchers.get(model);
  if (!b) {
    b = new Batcher(model);
    batchers.set(model, b);
  }
  return b;
}

const nowMicros = (): number => performance.now() * 1000;

/**
 * One model's queues: one per sample shape, served oldest call first. At most one batch runs at a
 * time (each batch already uses every kernel thread); calls arriving meanwhile wait for the next.
 */
class Batcher {
  maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
  maxWaitMicros = DEFAULT_MAX_WAIT_MICROS;
  onBatch: BatchingOptions['onBatch'];
  /** Insertion order is the order of each queue's oldest call (an emptied queue is deleted). */
  private readonly queues = new Map<string, Queue>();
  /**
   * A staging array to reuse: the last batch's once it settled, or an emptied queue's; for the next batch or call of
   * that shape (serving has one shape). A queue and its running batch thus alternate between two arrays.
   */
  private spare: { key: string; staging: Float32Array } | null = null;
  private running = false;
  private scheduled = false;
  /** The timer of a long maxWaitMicros wait, cleared when a batch fills up meanwhile. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly model: Module) {}

  submit(input: Tensor, program: CompiledProgram): Promise<Tensor> {
    const rows = input.shape[0];
    const key = sampleKey(input.shape);
    let queue = this.queues.get(key);
    if (!queue) {
      const rowSize = input.shape.slice(1).reduce((a, b) => a * b, 1);
      // grows by doubling (stage) to what the load needs
      const staging = this.takeSpare(key, 0) ?? new Float32Array(input.data.length);
      queue = { shape: input.shape.slice(1), program, calls: [], rows: 0, rowSize, staging, used: 0 };
      this.queues.set(key, queue);
    }
    queue.program = program; // the latest compilation for this shape
    stage(queue, input.data); // the caller may change its input once this returns: keep a copy
    const q = queue;
    return new Promise<Tensor>((resolve, reject) => {
      q.calls.push({ rows, arrived: nowMicros(), resolve, reject });
      q.rows += rows;
      if (this.timer !== null && q.rows >= this.maxBatchSize) {
        clearTimeout(this.timer); // a full batch need not wait
        this.timer = null;
        this.scheduled = false;
      }
      this.schedule();
    });
  }

  /** Runs pump() after the event loop has taken in the I/O and calls that arrived with this one. */
  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.running) return;
    const next = this.queues.entries().next();
    if (next.done) return;
    const [key, queue] = next.value;
    if (queue.rows < this.maxBatchSize && this.maxWaitMicros > 0) {
      const left = queue.calls[0].arrived + this.maxWaitMicros - nowMicros();
      if (left > 0) {
        this.waitFor(left);
        return;
      }
    }
    const calls: Call[] = [];
    let rows = 0;
    while (queue.calls.length > 0 && (calls.length === 0 || rows + queue.calls[0].rows <= this.maxBatchSize)) {
      const call = queue.calls.shift() as Call;
      calls.push(call);
      rows += call.rows;
    }
    queue.rows -= rows;
    this.queues.delete(key);
    if (queue.calls.length > 0) this.queues.set(key, queue); // other shapes' waiters go first (round robin)
    // The batch reads its rows where they are until it settles (runProgramAsyncInPlace), so the rows of the calls
    // still waiting move to another array: the spare (the previous batch's, in steady state) or a new one.
    const sent = queue.staging;
    const taken = rows * queue.rowSize;
    if (queue.calls.length > 0) {
      const rest = this.takeSpare(key, queue.used - taken) ?? new Float32Array(sent.length);
      rest.set(sent.subarray(taken, queue.used));
      queue.staging = rest;
      queue.used -= taken;
    }
    this.run(key, queue, sent, calls, rows);
  }

  /** The spare staging array of this shape when it holds at least `floats`, else null. */
  private takeSpare(key: string, floats: number): Float32Array | null {
    const spare = this.spare;
    if (spare === null || spare.key !== key || spare.staging.length < floats) return null;
    this.spare = null;
    return spare.staging;
  }

  /** Checks again after `micros`: by a timer for the whole milliseconds, then each event-loop turn. */
  private waitFor(micros: number): void {
    this.scheduled = true;
    const again = (): void => {
      this.timer = null;
      this.scheduled = false;
      this.pump();
    };
    if (micros >= 2000) this.timer = setTimeout(again, Math.floor(micros / 1000) - 1);
    else setImmediate(again);
  }

  /** Runs the first `rows` rows of `staging` (the calls' inputs, in order); `staging` is the spare once it settles. */
  private run(
    key: string,
    { program, shape, rowSize }: Queue,
    staging: Float32Array,
    calls: Call[],
    rows: number,
  ): void {
    this.running = true;
    const started = nowMicros();
    const finish = (ok: boolean): void => {
      this.running = false;
      if (staging.length <= MAX_SPARE_FLOATS) this.spare = { key, staging };
      try {
        this.onBatch?.({ shape: shape.slice(), rows, calls: calls.length, micros: nowMicros() - started, ok });
      } catch {
        // metrics must not break serving
      }
      this.schedule();
    };
    let pending: Promise<Float32Array>;
    try {
      const snapshot = currentSnapshot(this.model, program);
      // Nothing writes to `staging` until the run settles (pump moved the waiting rows out).
      pending = native.runProgramAsyncInPlace(program.code, snapshot, staging.subarray(0, rows * rowSize), rows);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (out) => {
        const per = out.length / rows;
        const shape = [1, ...program.outShape]; // each Tensor keeps its own copy
        let row = 0;
        for (const call of calls) {
          const data = calls.length === 1 ? out : out.slice(row * per, (row + call.rows) * per);
          shape[0] = call.rows;
          call.resolve(new Tensor(data, shape));
          row += call.rows;
        }
        finish(true);
      },
      (err: unknown) => {
        for (const call of calls) call.reject(err);
        finish(false);
      },
    );
  }
}

/** Appends `data` to the queue's staging array, growing it (doubling) when full. */
function stage(queue: Queue, data: Float32Array): void {
  if (queue.used + data.length > queue.staging.length) {
    const grown = new Float32Array(Math.max(2 * queue.staging.length, queue.used + data.length));
    grown.set(queue.staging.subarray(0, queue.used));
    queue.staging = grown;
  }
  queue.staging.set(data, queue.used);
  queue.used += data.length;
}
