// SPDX-License-Identifier: MIT
// The CNN and contention tables (Markdown, as README.md shows them): images/s per system, simdnet's ratio to the best
// other system of the same run, and model GFLOP/s as % of the measured FMA peak. Pure: no timing, no I/O.
import type { CaseResult } from './cases';
import { CNN_SYSTEMS, type CnnSystem } from './options';
import { formatRate } from './report';

const LABELS: Record<CnnSystem, string> = {
  simdnet: 'simdnet',
  pytorch: 'PyTorch',
  'pytorch-cl': 'PyTorch channels_last',
  onnxruntime: 'onnxruntime',
  'tfjs-wasm': 'tfjs wasm',
  'tfjs-cpu': 'tfjs cpu',
};

/** A model's name in the tables and its multiply-adds per image (forward, from summary()). */
export interface ModelInfo {
  name: string;
  title: string;
  macsPerImage: number;
}

/**
 * Floating-point work per second in GFLOP/s: 2 x multiply-adds x images/s for inference, and 3 times that for a
 * training step (forward, input gradient and weight gradient each cost about one forward: the usual estimate).
 */
export function modelGflops(macsPerImage: number, kind: 'train' | 'infer', imagesPerSec: number): number {
  return ((kind === 'train' ? 3 : 1) * 2 * macsPerImage * imagesPerSec) / 1e9;
}

/** a's images/s over b's (above 1: a is faster), or null when either has no number. */
export function speedRatio(a: CaseResult | undefined, b: CaseResult | undefined): number | null {
  if (!a?.imagesPerSec || !b?.imagesPerSec) return null;
  return a.imagesPerSec / b.imagesPerSec;
}

/** The fastest result of another library (not simdnet, nor simdnet-wasm), or undefined when none has a number. */
export function bestOther(group: readonly CaseResult[]): CaseResult | undefined {
  let best: CaseResult | undefined;
  for (const r of group) {
    if (r.system.startsWith('simdnet') || !r.imagesPerSec) continue;
    if (!best || r.imagesPerSec > (best.imagesPerSec ?? 0)) best = r;
  }
  return best;
}

/** A table cell: images/s, "-" for a case the system does not run, else the status ("cannot train", "error"). */
export function cell(r: CaseResult | undefined): string {
  if (!r) return '';
  if (r.imagesPerSec) return formatRate(r.imagesPerSec);
  return r.status === 'skipped' ? '-' : r.status;
}

const pct = (x: number | null): string => (x === null ? '-' : `${Math.round(x)}%`);

/**
 * One model's Markdown table: a row per (case, batch), a column per system, then simdnet ÷ the best other system,
 * and the model's GFLOP/s as % of the FMA peak (simdnet / the best other). `peakOf` gives the peak (GFLOP/s) for
 * the threads a system uses, or null when there is no probe.
 */
export function cnnTable(
  model: ModelInfo,
  results: readonly CaseResult[],
  peakOf: (system: string) => number | null,
): string {
  const mine = results.filter((r) => r.model === model.name);
  const keys = [...new Set(mine.map((r) => `${r.case}:${r.batch}`))].sort((a, b) => {
    const [ca, ba] = a.split(':');
    const [cb, bb] = b.split(':');
    return ca === cb ? Number(ba) - Number(bb) : ca === 'train' ? -1 : 1;
  });
  const macs = `${(model.macsPerImage / 1e6).toFixed(1)}M`;
  const header = [
    `${model.title} (${macs} MACs/image), images/s`,
    ...CNN_SYSTEMS.map((s) => LABELS[s]),
    'simdnet ÷ best other',
    '% FMA peak: simdnet / best other',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const key of keys) {
    const [kind, batch] = key.split(':') as ['train' | 'infer', string];
    const group = mine.filter((r) => r.case === kind && String(r.batch) === batch);
    const bySystem = (s: string) => group.find((r) => r.system === s);
    const simdnet = bySystem('simdnet');
    const best = bestOther(group);
    const ratio = speedRatio(simdnet, best);
    const peakPct = (r: CaseResult | undefined): number | null => {
      const peak = r?.imagesPerSec ? peakOf(r.system) : null;
      return peak && r?.imagesPerSec ? (100 * modelGflops(model.macsPerImage, kind, r.imagesPerSec)) / peak : null;
    };
    const row = [
      `${kind}, batch ${batch}`,
      ...CNN_SYSTEMS.map((s) => cell(bySystem(s))),
      ratio === null || !best ? '-' : `${ratio.toFixed(2)}x ${LABELS[best.system as CnnSystem] ?? best.system}`,
      `${pct(peakPct(simdnet))} / ${pct(peakPct(best))}`,
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A contention result: simdnet training beside a busy loop with a thread setting (null = the default). */
export interface ContentionResult extends CaseResult {
  threads: number | null;
  /** The thread count kernelInfo() reported when the case ended (with 'auto', trials may have changed it on the way). */
  threadsUsed: number;
  /** The images/s of every round when the row is the median of several (bench/contention.ts), in round order. */
  rounds?: number[];
}

/** The best fixed-thread result of a group (the highest images/s with threads set), if any. */
export function bestFixed(group: readonly ContentionResult[]): ContentionResult | undefined {
  let best: ContentionResult | undefined;
  for (const r of group)
    if (r.threads !== null && r.imagesPerSec && r.imagesPerSec > (best?.imagesPerSec ?? 0)) best = r;
  return best;
}

/**
 * The round with the median images/s, with every round's images/s in `rounds` (a failed round, if any, is the
 * result: a failure must show).
 */
export function medianRound(results: readonly ContentionResult[]): ContentionResult {
  const failed = results.find((r) => !r.imagesPerSec);
  if (failed) return failed;
  const sorted = [...results].sort((a, b) => (a.imagesPerSec ?? 0) - (b.imagesPerSec ?? 0));
  return { ...sorted[(sorted.length - 1) >> 1], rounds: results.map((r) => r.imagesPerSec ?? 0) };
}

/**
 * The contention table: a row per model, the default and each fixed thread count in images/s, and the default ÷
 * the best fixed count (the issue asks for at least 0.90).
 */
export function contentionTable(results: readonly ContentionResult[], titles: Record<string, string>): string {
  const settings = [...new Set(results.map((r) => r.threads))].sort((a, b) => (a ?? 0) - (b ?? 0));
  const header = [
    'with one busy loop, images/s',
    ...settings.map((t) => (t === null ? 'default threads' : `--threads ${t}`)),
    'default ÷ best fixed',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const models = [...new Set(results.map((r) => `${r.model ?? 'lenet'}:${r.batch}`))];
  for (const key of models) {
    const group = results.filter((r) => `${r.model ?? 'lenet'}:${r.batch}` === key);
    const [name, batch] = key.split(':');
    const def = group.find((r) => r.threads === null);
    const ratio = speedRatio(def, bestFixed(group));
    const cells = settings.map((t) => {
      const r = group.find((g) => g.threads === t);
      if (!r) return '';
      return t === null && r.imagesPerSec ? `${cell(r)} (${r.threadsUsed})` : cell(r);
    });
    lines.push(
      `| ${[`${titles[name] ?? name} train, batch ${batch}`, ...cells, ratio === null ? '-' : `${ratio.toFixed(2)}x`].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
