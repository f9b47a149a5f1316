// SPDX-License-Identifier: MIT
// A small pool of worker threads that decode and preprocess image request bodies (decode-worker.ts) off the event
// loop: a bounded number of images in the pool (more are refused with a 503 at once), errors per request, and a
// close() that lets every accepted image finish before the threads stop. The HTTP routes are server.ts.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { checkInt } from '../check';
import type { DecodeAnswer, DecodeSettings, DecodeTask } from './decode-worker';
import { RequestError } from './request-input';

/** Measured with bench/serve.ts on a 2-core machine (docs/serving.md). */
export const DEFAULT_DECODE_THREADS = 1;
/** Room for every connection of a 64-connection client, twice; bounds decode memory to this many bodies. */
export const DEFAULT_DECODE_QUEUE = 128;

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
  thread: Thread;
}

interface Thread {
  worker: Worker;
  /** Tasks posted to this worker and not yet answered. */
  busy: number;
  /** Whether it ever answered: a thread that dies before its first answer (it cannot start) is not replaced. */
  answered: boolean;
}

/**
 * Worker threads that turn PNG/JPEG bodies into model inputs, as imageInput() does on the calling thread. Tasks go to
 * the thread with the fewest unanswered tasks. An undecodable image rejects its own request only (a RequestError
 * with the status imageInput gives); a thread that dies rejects its unanswered tasks with an Error and is replaced.
 *
 * @example
 * const pool = new DecodePool({ threads: 1, maxQueue: 128, prep, maxPixels: 1 << 24 });
 * const input = await pool.decode(body, 'image/png'); // Float32Array [C*H*W]
 * await pool.close();
 */
export class DecodePool {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;
  private drained: (() => void) | null = null;
  /** Why the last thread that could not start stopped (decode() reports it once no thread is left). */
  private broken = '';

  constructor(private readonly options: DecodePoolOptions) {
    const threads = checkInt('DecodePool: threads', options.threads);
    checkInt('DecodePool: maxQueue', options.maxQueue);
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
  decode(body: Uint8Array, type: DecodeTask['type']): Promise<Float32Array> {
    if (this.closing) return Promise.reject(new RequestError(503, 'the server is shutting down'));
    if (this.pending.size >= this.options.maxQueue) {
      return Promise.reject(
        new RequestError(503, `busy: ${this.pending.size} images are waiting to be decoded; try again later`),
      );
    }
    if (this.threads.length === 0) return Promise.reject(new Error(`no decoding thread could start: ${this.broken}`));
    let thread = this.threads[0];
    for (const t of this.threads) if (t.busy < thread.busy) thread = t;
    const id = this.nextId++;
    // The body may be a view of a pooled or shared buffer: the worker gets its own copy of these bytes only.
    const copy = new Uint8Array(body);
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, thread });
      if (thread.busy++ === 0) thread.worker.ref();
      const task: DecodeTask = { id, type, body: copy };
      thread.worker.postMessage(task, [copy.buffer]);
    });
  }

  /** Refuses new images, waits until every accepted one is answered, then stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(): Thread {
    const settings: DecodeSettings = { prep: this.options.prep, maxPixels: this.options.maxPixels };
    const thread: Thread = { worker: startWorker(settings), busy: 0, answered: false };
    thread.worker.unref(); // idle threads never keep the process alive; busy ones do (decode)
    thread.worker.on('message', (answer: DecodeAnswer) => {
      const task = this.pending.get(answer.id);
      thread.answered = true;
      if (task === undefined) return;
      this.settle(answer.id, task);
      if ('input' in answer) task.resolve(answer.input);
      else if (answer.status < 500) task.reject(new RequestError(answer.status, answer.message));
      else task.reject(new Error(`decoding failed: ${answer.message}`));
    });
    const fail = (why: string): void => {
      for (const [id, task] of this.pending) {
        if (task.thread !== thread) continue;
        this.settle(id, task);
        task.reject(new Error(`the decoding thread stopped (${why})`));
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

  private settle(id: number, task: Pending): void {
    this.pending.delete(id);
    if (--task.thread.busy === 0) task.thread.worker.unref();
    if (this.pending.size === 0 && this.drained !== null) {
      this.drained();
      this.drained = null;
    }
  }
}

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
