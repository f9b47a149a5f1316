// SPDX-License-Identifier: MIT
// The counters and histograms `simdnet serve` exposes at GET /metrics, written in Prometheus' text exposition format
// (version 0.0.4: # HELP and # TYPE lines, then samples; histograms as cumulative _bucket{le}, _sum and _count). With
// `--workers N` each worker process keeps its own ServeMetrics; /metrics renders the sum of their snapshots
// (serve-cluster.ts gathers them).

/** A histogram's state as plain data (sent between worker processes). */
interface HistogramSnapshot {
  counts: number[];
  sum: number;
  count: number;
}

/** One ServeMetrics' state as plain data: what `renderMetrics` adds up across worker processes. */
export interface MetricsSnapshot {
  byStatus: [number, number][];
  inFlight: number;
  latency: HistogramSnapshot;
  batchRows: HistogramSnapshot;
  batchSeconds: HistogramSnapshot;
  batchFailures: number;
}

/** A histogram with fixed upper bounds, as Prometheus keeps it (cumulative when rendered). */
class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    // A plain loop: findIndex's callback was a visible share of the serving path (once per request).
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && !(value <= bounds[i])) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    return { counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

/** The HELP, TYPE and sample lines of the sum of histograms `hs` with these `bounds`. */
function histogram(name: string, help: string, bounds: readonly number[], hs: HistogramSnapshot[]): string[] {
  const out = header(name, 'histogram', help);
  let cumulative = 0;
  bounds.forEach((b, i) => {
    cumulative += sumOf(hs, (h) => h.counts[i]);
    out.push(`${name}_bucket{le="${formatNumber(b)}"} ${cumulative}`);
  });
  const count = sumOf(hs, (h) => h.count);
  out.push(
    `${name}_bucket{le="+Inf"} ${count}`,
    `${name}_sum ${formatNumber(sumOf(hs, (h) => h.sum))}`,
    `${name}_count ${count}`,
  );
  return out;
}

/** The HELP, TYPE and sample lines of an unlabelled counter or gauge. */
function single(name: string, type: 'counter' | 'gauge', help: string, value: number): string[] {
  return [...header(name, type, help), `${name} ${value}`];
}

const sumOf = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((n, x) => n + f(x), 0);

/** Latency buckets in seconds: 0.25 ms to 10 s. */
const LATENCY_BOUNDS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
/** Batch-size buckets in images. */
const BATCH_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * What the prediction endpoint has done: requests by status code, requests in flight, request latency, and the
 * batches predictAsync() ran (rows per batch, time per batch).
 *
 * @example
 * const m = new ServeMetrics(); m.requestStarted(); m.requestDone(); m.requestFinished(200, 0.004); m.render();
 */
export class ServeMetrics {
  private readonly byStatus = new Map<number, number>();
  private inFlight = 0;
  private readonly latency = new Histogram(LATENCY_BOUNDS);
  private readonly batchRows = new Histogram(BATCH_BOUNDS);
  private readonly batchSeconds = new Histogram(LATENCY_BOUNDS);
  private batchFailures = 0;

  /** A /predict request reached its handler (in flight until requestDone). */
  requestStarted(): void {
    this.inFlight++;
  }

  requestDone(): void {
    this.inFlight--;
  }

  /** A /predict request (handled or refused before its handler) answered with `status` after `seconds`. */
  requestFinished(status: number, seconds: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    this.latency.observe(seconds);
  }

  batchFinished(rows: number, seconds: number, ok: boolean): void {
    this.batchRows.observe(rows);
    this.batchSeconds.observe(seconds);
    if (!ok) this.batchFailures++;
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** This process's counters as plain data (for renderMetrics, also across processes). */
  snapshot(): MetricsSnapshot {
    return {
      byStatus: [...this.byStatus],
      inFlight: this.inFlight,
      latency: this.latency.snapshot(),
      batchRows: this.batchRows.snapshot(),
      batchSeconds: this.batchSeconds.snapshot(),
      batchFailures: this.batchFailures,
    };
  }

  /** The text a Prometheus server scrapes (Content-Type: text/plain; version=0.0.4). */
  render(): string {
    return renderMetrics([this.snapshot()]);
  }
}

/**
 * The Prometheus text of the sum of several processes' metrics (one per `--workers` process), with
 * `simdnet_serve_workers`, the number of snapshots summed.
 */
export function renderMetrics(snapshots: readonly MetricsSnapshot[]): string {
  const byStatus = new Map<number, number>();
  for (const s of snapshots) for (const [code, n] of s.byStatus) byStatus.set(code, (byStatus.get(code) ?? 0) + n);
  const codes = [...byStatus].sort(([a], [b]) => a - b);
  const errors = sumOf(
    codes.filter(([code]) => code >= 400),
    ([, n]) => n,
  );
  const lines = [
    ...header('simdnet_requests_total', 'counter', 'Prediction requests answered, by HTTP status code.'),
    ...codes.map(([code, n]) => `simdnet_requests_total{code="${code}"} ${n}`),
    ...single(
      'simdnet_request_errors_total',
      'counter',
      'Prediction requests answered with a 4xx or 5xx status.',
      errors,
    ),
    ...single(
      'simdnet_requests_in_flight',
      'gauge',
      'Prediction requests received and not yet answered.',
      sumOf(snapshots, (s) => s.inFlight),
    ),
    ...histogram(
      'simdnet_request_duration_seconds',
      'Time from request to response of /predict.',
      LATENCY_BOUNDS,
      snapshots.map((s) => s.latency),
    ),
    ...histogram(
      'simdnet_batch_size',
      'Images per batch the model ran.',
      BATCH_BOUNDS,
      snapshots.map((s) => s.batchRows),
    ),
    ...histogram(
      'simdnet_batch_duration_seconds',
      'Time one batch took on the thread pool.',
      LATENCY_BOUNDS,
      snapshots.map((s) => s.batchSeconds),
    ),
    ...single(
      'simdnet_batch_failures_total',
      'counter',
      'Batches that failed (each of their requests got a 500).',
      sumOf(snapshots, (s) => s.batchFailures),
    ),
    ...single(
      'simdnet_serve_workers',
      'gauge',
      'Server processes whose metrics these are (--workers).',
      snapshots.length,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function header(name: string, type: string, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** Prometheus sample values: Go-style floats ("0.00025", "1e-05", "+Inf"). */
function formatNumber(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}
