// SPDX-License-Identifier: MIT
// renderMetrics: the /metrics text of several server processes (`simdnet serve --workers N`) is their sum, sample by
// sample, and one process's text is what ServeMetrics.render() gives.
import { renderMetrics, ServeMetrics } from '../../lib/serve/metrics';

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('renderMetrics', () => {
  test('sums the counters, gauges and histogram buckets of every worker', () => {
    const a = new ServeMetrics();
    a.requestFinished(200, 0.003);
    a.requestFinished(415, 0.0001);
    a.requestStarted();
    a.batchFinished(4, 0.002, true);
    const b = new ServeMetrics();
    b.requestFinished(200, 0.02);
    b.requestFinished(200, 3);
    b.requestStarted();
    b.requestStarted();
    b.batchFinished(1, 0.001, false);
    const sum = samples(renderMetrics([a.snapshot(), b.snapshot()]));
    const one = [samples(a.render()), samples(b.render())];
    // Every sample of the sum is the sum of the workers' own (a code only one worker saw counts as 0 in the other).
    for (const [name, value] of sum) {
      if (name === 'simdnet_serve_workers') continue;
      expect([name, value]).toEqual([name, (one[0].get(name) ?? 0) + (one[1].get(name) ?? 0)]);
    }
    expect(sum.get('simdnet_requests_total{code="200"}')).toBe(3);
    expect(sum.get('simdnet_requests_total{code="415"}')).toBe(1);
    expect(sum.get('simdnet_request_errors_total')).toBe(1);
    expect(sum.get('simdnet_requests_in_flight')).toBe(3);
    expect(sum.get('simdnet_request_duration_seconds_bucket{le="0.005"}')).toBe(2);
    expect(sum.get('simdnet_request_duration_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(sum.get('simdnet_batch_size_sum')).toBe(5);
    expect(sum.get('simdnet_batch_failures_total')).toBe(1);
    expect(sum.get('simdnet_serve_workers')).toBe(2);
    expect(one[0].get('simdnet_serve_workers')).toBe(1);
  });
});
