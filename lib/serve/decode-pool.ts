// SPDX-License-Identifier: MIT
// A small pool of worker threads that decode and preprocess image request bodies (decode-worker.ts) off the event
// loop: the images that arrive in one event-loop turn travel to a thread in one message and come back as one buffer; a
// bounded number of images in the pool (more are refused with a 503 at once), errors per request, and a close() that
// lets every accepted image finish before the threads stop. The HTTP routes are server.ts.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { checkInt } from '../check';
import { IMAGE_TYPES, type DecodeAnswer, type DecodeBatch, type DecodeSettings } from './decode-messages';
import { RequestError } from './request-input';

/** Measured with bench/serve.ts on a 2-core machine (docs/serving.md). */
export const DEFAULT_DECODE_THREADS = 1;
/**
 * Images up to 64x64 are decoded on the event loop thread (server.ts): measured with bench/serve.ts on 32x32 PNGs
 * (docs/serving.md); a 64x64 image stalls the loop only briefly.
 */
export const DEFAULT_INLINE_DECODE_PIXELS = 64 * 64;
/** Room for every connection of a 64-connection client, twice; bounds decode memory to this many bodies. */
export const DEFAULT_DECODE_QUEUE = 128;

export type ImageType = (typeof IMAGE_TYPES)[number];

/** How many threads decode and how many images may be in the pool at once. */
export interface DecodePoolOptions extends DecodeSettings {
  /** Worker threads (at least 1). */
  threads: number;
  /** Most images being decoded or waiting for a thread; more are refused with a 503. At least 1. */
  maxQueue: number;
}

interface Pending {
  resolve: (input: Float32Array) => void;
  reject: (err: Error) => void;
  /** The thread it was posted to; null while it waits in the outbox for the end of the event-loop turn. */
  thread: Thread | null;
  body: Uint8Array;
  type: ImageType;
}

interface Thread {
  worker: Worker;
  /** Images posted to this worker and not yet answered. */
  busy: number;
  /** Whether it ever answered: a thread that dies before its first answer (it cannot start) is not replaced. */
  answered: boolean;
}

/**
 * Worker threads that turn PNG/JPEG bodies into model inputs, as imageInput() does on the calling thread. The images
 * submitted in one event-loop turn (the requests read in one poll phase) are posted together in one message, spread
 * over the threads with the fewest unanswered images; a thread answers all of its share in one transferred buffer,
 * so the messages per image fall as the load rises. Each answer is a view of that buffer, covering its own image only.
 * An undecodable image rejects its own request only (a RequestError with the status imageInput gives); a thread that
 * dies rejects its unanswered images with an Error and is replaced.
 *
 * @example
 * const pool = new DecodePool({ threads: 1, maxQueue: 128, prep, maxPixels: 1 << 24 });
 * const input = await pool.decode(body, 'image/png'); // Float32Array [C*H*W]
 * await pool.close();
 */
export class DecodePool {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Ids submitted this event-loop turn, posted by flush(). */
  private outbox: number[] = [];
  private nextId = 0;
  private closing = false;
  private drained: (() => void) | null = null;
  /** Why the last thread that could not start stopped (decode() reports it once no thread is left). */
  private broken = '';
  /** Floats in one model input (C*H*W). */
  private readonly inputSize: number;

  constructor(private readonly options: DecodePoolOptions) {
    const threads = checkInt('DecodePool: threads', options.threads);
    checkInt('DecodePool: maxQueue', options.maxQueue);
    const { prep } = options;
    this.inputSize = prep.channels * prep.height * prep.width;
    for (let i = 0; i < threads; i++) this.threads.push(this.spawn());
  }

  /** Images accepted and not yet answered. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * The model input [C*H*W] of an image body. Rejects with a RequestError: 503 when `maxQueue` images are already in
   * the pool or the pool is closing, 400/413 for an image imageInput() refuses.
   */
  decode(body: Uint8Array, type: ImageType): Promise<Float32Array> {
    if (this.closing) return Promise.reject(new RequestError(503, 'the server is shutting down'));
    if (this.pending.size >= this.options.maxQueue) {
      return Promise.reject(
        new RequestError(503, `busy: ${this.pending.size} images are waiting to be decoded; try again later`),
      );
    }
    if (this.threads.length === 0) return Promise.reject(new Error(`no decoding thread could start: ${this.broken}`));
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, thread: null, body, type });
      if (this.outbox.push(id) === 1) setImmediate(() => this.flush());
    });
  }

  /** Refuses new images, waits until every accepted one is answered, then stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  /** Posts this turn's images: one message per thread used, the least busy threads first. */
  private flush(): void {
    const ids = this.outbox.filter((id) => this.pending.has(id));
    this.outbox = [];
    if (ids.length === 0) return;
    if (this.threads.length === 0) {
      for (const id of ids) this.fail(id, new Error(`no decoding thread could start: ${this.broken}`));
      return;
    }
    const threads = [...this.threads].sort((a, b) => a.busy - b.busy).slice(0, ids.length);
    let from = 0;
    threads.forEach((thread, t) => {
      const to = Math.round(((t + 1) * ids.length) / threads.length);
      this.post(thread, ids.slice(from, to));
      from = to;
    });
  }

  /** One message to `thread` with these images' bodies copied into one transferred buffer (each body may be a view). */
  private post(thread: Thread, ids: number[]): void {
    const tasks = ids.map((id) => this.pending.get(id) as Pending);
    const ends = new Uint32Array(ids.length);
    const types = new Uint8Array(ids.length);
    let total = 0;
    tasks.forEach((task, i) => {
      total += task.body.byteLength;
      ends[i] = total;
      types[i] = IMAGE_TYPES.indexOf(task.type);
    });
    const bytes = new Uint8Array(total);
    tasks.forEach((task, i) => {
      bytes.set(task.body, i === 0 ? 0 : ends[i - 1]);
      task.body = EMPTY; // the copy travels; the request's buffer need not stay referenced
      task.thread = thread;
    });
    if (thread.busy === 0) thread.worker.ref();
    thread.busy += ids.length;
    const batch: DecodeBatch = { ids, types, ends, bytes };
    thread.worker.postMessage(batch, [bytes.buffer]);
  }

  private spawn(): Thread {
    const settings: DecodeSettings = { prep: this.options.prep, maxPixels: this.options.maxPixels };
    const thread: Thread = { worker: startWorker(settings), busy: 0, answered: false };
    thread.worker.unref(); // idle threads never keep the process alive; busy ones do (post)
    thread.worker.on('message', ({ ids, inputs, errors }: DecodeAnswer) => {
      thread.answered = true;
      const failed = new Map(errors.map((e) => [e.index, e]));
      ids.forEach((id, i) => {
        const task = this.pending.get(id);
        if (task === undefined) return;
        this.settle(id, task);
        const error = failed.get(i);
        if (error === undefined) task.resolve(inputs.subarray(i * this.inputSize, (i + 1) * this.inputSize));
        else if (error.status < 500) task.reject(new RequestError(error.status, error.message));
        else task.reject(new Error(`decoding failed: ${error.message}`));
      });
    });
    const fail = (why: string): void => {
      for (const [id, task] of this.pending) {
        if (task.thread === thread) this.fail(id, new Error(`the decoding thread stopped (${why})`));
      }
      const i = this.threads.indexOf(thread);
      if (i < 0 || this.closing) return;
      if (thread.answered) {
        this.threads[i] = this.spawn();
      } else {
        this.threads.splice(i, 1);
        this.broken = why;
      }
    };
    thread.worker.on('error', (err) => fail(err.message));
    thread.worker.on('exit', (code) => fail(`exit code ${code}`));
    return thread;
  }

  private fail(id: number, err: Error): void {
    const task = this.pending.get(id);
    if (task === undefined) return;
    this.settle(id, task);
    task.reject(err);
  }

  private settle(id: number, task: Pending): void {
    this.pending.delete(id);
    if (task.thread !== null && --task.thread.busy === 0) task.thread.worker.unref();
    if (this.pending.size === 0 && this.drained !== null) {
      this.drained();
      this.drained = null;
    }
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Starts decode-worker beside this file: the compiled .js, or, when this module runs from its TypeScript source
 * (tests through ts-jest, test/cli/run-ts.js), the .ts file transpiled on require by the typescript package.
 */
function startWorker(settings: DecodeSettings): Worker {
  const file = path.join(__dirname, `decode-worker${path.extname(__filename)}`);
  if (!file.endsWith('.ts')) return new Worker(file, { workerData: settings });
  const bootstrap = `
    const fs = require('fs');
    const { workerData } = require('worker_threads');
    const ts = require(workerData.typescript);
    require.extensions['.ts'] = (module, filename) => {
      const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      module._compile(outputText, filename);
    };
    require(workerData.file);`;
  const typescript = require.resolve('typescript');
  return new Worker(bootstrap, { eval: true, workerData: { ...settings, file, typescript } });
}
