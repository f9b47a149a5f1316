// SPDX-License-Identifier: MIT
// The counters and histograms `simdnet serve` exposes at GET /metrics, written in Prometheus' text exposition format
// (version 0.0.4: # HELP and # TYPE lines, then samples; histograms as cumulative _bucket{le}, _sum and _count).

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

  lines(name: string): string[] {
    const out: string[] = [];
    let cumulative = 0;
    this.bounds.forEach((b, i) => {
      cumulative += this.counts[i];
      out.push(`${name}_bucket{le="${formatNumber(b)}"} ${cumulative}`);
    });
    out.push(
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${formatNumber(this.sum)}`,
      `${name}_count ${this.count}`,
    );
    return out;
  }
}

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

  /** The text a Prometheus server scrapes (Content-Type: text/plain; version=0.0.4). */
  render(): string {
    const errors = [...this.byStatus].filter(([code]) => code >= 400).reduce((n, [, c]) => n + c, 0);
    const codes = [...this.byStatus].sort(([a], [b]) => a - b);
    const lines = [
      ...header('simdnet_requests_total', 'counter', 'Prediction requests answered, by HTTP status code.'),
      ...(codes.length ? codes.map(([code, n]) => `simdnet_requests_total{code="${code}"} ${n}`) : []),
      ...header('simdnet_request_errors_total', 'counter', 'Prediction requests answered with a 4xx or 5xx status.'),
      `simdnet_request_errors_total ${errors}`,
      ...header('simdnet_requests_in_flight', 'gauge', 'Prediction requests received and not yet answered.'),
      `simdnet_requests_in_flight ${this.inFlight}`,
      ...header('simdnet_request_duration_seconds', 'histogram', 'Time from request to response of /predict.'),
      ...this.latency.lines('simdnet_request_duration_seconds'),
      ...header('simdnet_batch_size', 'histogram', 'Images per batch the model ran.'),
      ...this.batchRows.lines('simdnet_batch_size'),
      ...header('simdnet_batch_duration_seconds', 'histogram', 'Time one batch took on the thread pool.'),
      ...this.batchSeconds.lines('simdnet_batch_duration_seconds'),
      ...header('simdnet_batch_failures_total', 'counter', 'Batches that failed (each of their requests got a 500).'),
      `simdnet_batch_failures_total ${this.batchFailures}`,
    ];
    return `${lines.join('\n')}\n`;
  }
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
