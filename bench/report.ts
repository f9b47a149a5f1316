// SPDX-License-Identifier: MIT
// Turns a bench run into the printed tables (LeNet cases with ratios, kernels, correctness) and the JSON file.
import * as fs from 'fs';
import * as path from 'path';
import type { CaseResult } from './cases';
import type { KernelResult } from './kernels';
import type { MachineInfo } from './machine';
import type { PeakResult } from './peak';

const SYSTEM_ORDER = ['simdnet', 'simdnet-wasm', 'pytorch', 'onnxruntime', 'tfjs-wasm', 'tfjs-cpu'];

function table(header: string[], rows: string[][], right: number[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (right.includes(i) ? c.padStart(width[i]) : c.padEnd(width[i])))
      .join('  ')
      .trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatRate(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(3);
}

/** "simdnet ÷ this" for each row of a case: >1 means simdnet is faster. */
function ratio(simdnet: CaseResult | undefined, r: CaseResult): string {
  if (r.system === 'simdnet' || !simdnet?.imagesPerSec || !r.imagesPerSec) return '';
  return `${(simdnet.imagesPerSec / r.imagesPerSec).toFixed(2)}x`;
}

function statusText(r: CaseResult): string {
  if (r.status === 'ok') return `${r.reps}x${r.callsPerRep} calls, spread ${Math.round(r.spreadPct ?? 0)}%`;
  return `${r.status}: ${r.note ?? ''}`;
}

export function casesTable(results: CaseResult[]): string {
  const keys = [...new Map(results.map((r) => [`${r.case}:${r.batch}`, r])).values()]
    .sort((a, b) => (a.case === b.case ? a.batch - b.batch : a.case === 'train' ? -1 : 1))
    .map((r) => `${r.case}:${r.batch}`);
  const rows: string[][] = [];
  for (const key of keys) {
    const group = results
      .filter((r) => `${r.case}:${r.batch}` === key)
      .sort((a, b) => SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system));
    const simdnet = group.find((r) => r.system === 'simdnet');
    for (const r of group) {
      rows.push([
        r.case,
        String(r.batch),
        r.system,
        r.imagesPerSec ? formatRate(r.imagesPerSec) : '-',
        ratio(simdnet, r),
        statusText(r),
      ]);
    }
  }
  return table(['case', 'batch', 'system', 'images/s', 'simdnet/this', 'samples / note'], rows, [1, 3, 4]);
}

export function kernelsTable(kernels: KernelResult[], peak: PeakResult, peakUsed: number | null): string {
  const rows = kernels.map((k) => [
    k.kernel,
    k.shape,
    k.isa,
    k.msPerCall ? k.msPerCall.toFixed(3) : '-',
    k.gflops ? k.gflops.toFixed(1) : '-',
    k.pctPeak ? `${k.pctPeak.toFixed(1)}%` : '-',
    k.status === 'ok' ? '' : `${k.status}: ${k.note}`,
  ]);
  const probe =
    peak.error ??
    `FMA peak probe (${peak.isa}): ${Object.entries(peak.gflops)
      .map(([t, g]) => `${g.toFixed(1)} GFLOP/s on ${t} thread${t === '1' ? '' : 's'}`)
      .join(', ')}`;
  const used = peakUsed ? `; % peak is against ${peakUsed.toFixed(1)} GFLOP/s` : '';
  return `${probe}${used}\n${table(['kernel (batch 64)', 'shape', 'isa', 'ms', 'GFLOP/s', '% peak', 'note'], rows, [3, 4, 5])}`;
}

/** Largest check difference per system over its cases (logits for inference, first loss for training). */
export function correctness(results: CaseResult[]): Record<string, { infer: number | null; train: number | null }> {
  const out: Record<string, { infer: number | null; train: number | null }> = {};
  for (const r of results) {
    const entry = (out[r.system] ??= { infer: null, train: null });
    if (r.maxDiff !== undefined) entry[r.case] = Math.max(entry[r.case] ?? 0, r.maxDiff);
  }
  return out;
}

export function correctnessText(results: CaseResult[], tol: number): string {
  const c = correctness(results);
  const fmt = (x: number | null) => (x === null ? '-' : x.toExponential(1));
  const rows = SYSTEM_ORDER.filter((s) => c[s]).map((s) => [s, fmt(c[s].infer), fmt(c[s].train)]);
  return (
    `Checks against a float64 JS LeNet on the same weights (tolerance ${tol}), before timing:\n` +
    table(['system', 'max |logits diff|', 'max |first loss diff|'], rows, [1, 2])
  );
}

export function machineText(m: MachineInfo): string {
  const cores = `${m.logicalCores} logical${m.physicalCores ? ` / ${m.physicalCores} physical` : ''} cores`;
  const k = m.simdnet.kernelInfo as { isa?: string; openmp?: boolean };
  const env =
    Object.entries(m.env)
      .map(([key, v]) => `${key}=${v}`)
      .join(' ') || 'none';
  return [
    `Machine: ${m.cpu}, ${cores}, ${m.memoryGiB} GiB, flags ${m.cpuFlags.join(' ') || '-'}; ${m.os}; Node ${m.node}`,
    `simdnet ${m.simdnet.version} (${m.simdnet.commit ?? 'no git'}): isa ${k.isa ?? '?'}, openmp ${k.openmp ?? '?'}, ${m.simdnet.threads} thread(s); kernels ${JSON.stringify((m.simdnet.kernelInfo as { kernels?: unknown }).kernels ?? {})}`,
    `Others: ${Object.entries(m.libraries)
      .map(([n, v]) => `${n} ${v ?? 'not installed'}`)
      .join(', ')}; env: ${env}`,
  ].join('\n');
}

export function writeJson(file: string, report: unknown): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
