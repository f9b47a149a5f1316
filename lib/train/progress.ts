// SPDX-License-Identifier: MIT
// Progress output during an epoch and the test evaluation after it: a cli-progress bar on a terminal, plain log lines
// elsewhere; no metrics maths here.
import * as cliProgress from 'cli-progress';

import { checkNumber, checkOneOf } from '../check';
/** 'auto' = a bar when the stream is a TTY, else log lines; 'bar'; 'log'; 'none' = silent. */
export type ProgressMode = 'auto' | 'bar' | 'log' | 'none';

export const PROGRESS_MODES: readonly ProgressMode[] = Object.freeze(['auto', 'bar', 'log', 'none']);

/** The part of a writable stream progress output needs (process.stderr, a PassThrough in tests). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** The state after a batch, with metrics averaged over the epoch so far. */
export interface BatchProgress {
  /** Batches done in this epoch (1-based). */
  batch: number;
  /** Mean loss per sample so far. */
  loss: number;
  /** Fraction correct so far, in [0, 1]. */
  accuracy: number;
  imagesPerSecond: number;
  /** Seconds since the epoch started. */
  seconds: number;
}

/** Receives progress from fit(); implement it to send progress elsewhere (a web socket, a logger). */
export interface ProgressReporter {
  /** `epoch` is 1-based; `totalBatches` is undefined when the loader has no length. */
  startEpoch(epoch: number, epochs: number, totalBatches: number | undefined): void;
  update(progress: BatchProgress): void;
  /** Called once per started epoch, also when it ends early (abort, error). */
  endEpoch(): void;
  /** Optional: the test set is evaluated after the epoch just ended (`totalBatches` batches, undefined when unknown). */
  startEvaluation?(totalBatches: number | undefined): void;
  /** Optional: `batch` test batches are done. */
  updateEvaluation?(batch: number): void;
  /** Optional: the evaluation finished, or stopped early. */
  endEvaluation?(): void;
}

export interface ProgressOptions {
  /** Default 'auto'. */
  mode?: ProgressMode;
  /** Where output goes. Default process.stderr. */
  stream?: ProgressStream;
  /** Log mode: fraction of the epoch between lines. Default 0.1 (every ~10%, and at the end). */
  logEvery?: number;
}

/**
 * Makes the reporter for a mode. 'auto' picks a bar when `stream.isTTY`, otherwise log lines.
 *
 * @example
 * const progress = createProgress({ mode: 'log', stream: process.stdout });
 */
export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  const mode = checkOneOf('progress: mode', options.mode ?? 'auto', PROGRESS_MODES);
  const stream = options.stream ?? process.stderr;
  // A fraction of the epoch in (0, 1].
  const logEvery = checkNumber('progress: logEvery', options.logEvery ?? 0.1, { minExclusive: 0, max: 1 });
  if (mode === 'none') return { startEpoch() {}, update() {}, endEpoch() {} };
  if (mode === 'log' || (mode === 'auto' && stream.isTTY !== true)) return new LogProgress(stream, logEvery);
  return new BarProgress(stream, logEvery);
}

/** One line per ~10% of the epoch and one at its end. */
class LogProgress implements ProgressReporter {
  private epoch = 0;
  private epochs = 0;
  private total: number | undefined;
  private nextLine = 0;
  private last: BatchProgress | null = null;
  private lastPrinted = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly every: number,
  ) {}

  startEpoch(epoch: number, epochs: number, totalBatches: number | undefined): void {
    this.epoch = epoch;
    this.epochs = epochs;
    this.total = totalBatches;
    this.last = null;
    this.lastPrinted = 0;
    this.nextLine = this.threshold(1);
  }

  /** First batch at or past fraction k*every of the epoch (every 50 batches when the length is unknown). */
  private threshold(k: number): number {
    if (this.total === undefined) return 50 * k;
    return Math.max(1, Math.ceil(Math.min(1, k * this.every) * this.total - 1e-9));
  }

  update(p: BatchProgress): void {
    this.last = p;
    if (p.batch < this.nextLine && p.batch !== this.total) return;
    this.print(p);
    let k = 1;
    while (this.threshold(k) <= p.batch && this.threshold(k) < (this.total ?? Infinity)) k++;
    this.nextLine = this.threshold(k);
  }

  endEpoch(): void {
    if (this.last !== null && this.last.batch !== this.lastPrinted) this.print(this.last);
  }

  startEvaluation(totalBatches: number | undefined): void {
    this.stream.write(`${formatEvaluationLine(this.epoch, this.epochs, totalBatches)}\n`);
  }

  private print(p: BatchProgress): void {
    this.lastPrinted = p.batch;
    this.stream.write(`${formatBatchLine(this.epoch, this.epochs, this.total, p)}\n`);
  }
}

/** A cli-progress bar per epoch, left on screen when the epoch ends, then one for the test evaluation. */
class BarProgress implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;
  private evalBar: cliProgress.SingleBar | null = null;
  private fallback: LogProgress;
  private payload = { epoch: '', epochs: '', loss: '-', acc: '-', ips: '-' };

  constructor(
    private readonly stream: ProgressStream,
    every: number,
  ) {
    this.fallback = new LogProgress(stream, every);
  }

  startEpoch(epoch: number, epochs: number, totalBatches: number | undefined): void {
    this.endEpoch();
    if (totalBatches === undefined) {
      // A bar needs a total; without one, log lines say as much.
      this.fallback.startEpoch(epoch, epochs, totalBatches);
      return;
    }
    const width = String(epochs).length;
    this.payload = { epoch: String(epoch).padStart(width), epochs: String(epochs), loss: '-', acc: '-', ips: '-' };
    this.bar = this.newBar(
      'epoch {epoch}/{epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}',
    );
    this.bar.start(totalBatches, 0, this.payload);
  }

  private newBar(format: string): cliProgress.SingleBar {
    return new cliProgress.SingleBar({
      stream: this.stream as NodeJS.WritableStream,
      format,
      barsize: 24,
      hideCursor: false,
      // A forced bar on a non-TTY stream still prints (a line every couple of seconds).
      noTTYOutput: this.stream.isTTY !== true,
      etaBuffer: 50,
    });
  }

  startEvaluation(totalBatches: number | undefined): void {
    this.endEvaluation();
    if (totalBatches === undefined) {
      this.stream.write(
        `${formatEvaluationLine(Number(this.payload.epoch), Number(this.payload.epochs), undefined)}\n`,
      );
      return;
    }
    // The training bar stays at its last state; this one shows the evaluation moving (it takes seconds on CIFAR-10).
    this.evalBar = this.newBar(
      'epoch {epoch}/{epochs} evaluating [{bar}] {value}/{total} test batches | ETA {eta_formatted}',
    );
    this.evalBar.start(totalBatches, 0, { epoch: this.payload.epoch, epochs: this.payload.epochs });
  }

  updateEvaluation(batch: number): void {
    this.evalBar?.update(batch);
  }

  endEvaluation(): void {
    this.evalBar?.stop();
    this.evalBar = null;
  }

  update(p: BatchProgress): void {
    if (this.bar === null) {
      this.fallback.update(p);
      return;
    }
    this.payload.loss = formatNumber(p.loss, 4);
    this.payload.acc = formatPercent(p.accuracy);
    this.payload.ips = p.imagesPerSecond.toFixed(0);
    this.bar.update(p.batch, this.payload);
  }

  endEpoch(): void {
    if (this.bar === null) {
      this.fallback.endEpoch();
      return;
    }
    this.bar.stop();
    this.bar = null;
  }
}

/** "epoch 1/10  batch 79/782 (10%)  loss 2.2012  acc 17.31%  1234 img/s  ETA 0:42". */
export function formatBatchLine(epoch: number, epochs: number, total: number | undefined, p: BatchProgress): string {
  const w = String(epochs).length;
  const parts = [`epoch ${String(epoch).padStart(w)}/${epochs}`];
  if (total === undefined) parts.push(`batch ${p.batch}`);
  else
    parts.push(
      `batch ${String(p.batch).padStart(String(total).length)}/${total} (${Math.floor((100 * p.batch) / total)}%)`,
    );
  parts.push(
    `loss ${formatNumber(p.loss, 4)}`,
    `acc ${formatPercent(p.accuracy)}`,
    `${p.imagesPerSecond.toFixed(0)} img/s`,
  );
  if (total !== undefined && p.batch > 0)
    parts.push(`ETA ${formatDuration(((total - p.batch) * p.seconds) / p.batch)}`);
  return parts.join('  ');
}

/** "epoch 3/10  evaluating on the test set (40 batches)". */
export function formatEvaluationLine(epoch: number, epochs: number, totalBatches: number | undefined): string {
  const w = String(epochs).length;
  const batches = totalBatches === undefined ? '' : ` (${totalBatches} batch${totalBatches === 1 ? '' : 'es'})`;
  return `epoch ${String(epoch).padStart(w)}/${epochs}  evaluating on the test set${batches}`;
}

/** 0.6321 -> "63.21%"; NaN -> "n/a". */
export function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(100 * fraction).toFixed(2)}%` : 'n/a';
}

/** Fixed decimals; NaN/Infinity as themselves. */
export function formatNumber(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** Seconds as "m:ss" or "h:mm:ss". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
