// SPDX-License-Identifier: MIT
// Several bench runs side by side: one machine's speed moves between runs by more than the gaps between systems, so
// a ratio is quoted from several runs, each run's own, with their median.
//   npm run bench -- --only cnn,contention --quick --json run1.json   (and run2.json, ...)
//   npx tsc -p bench/tsconfig.json && node build/bench/bench/combine.js run1.json run2.json run3.json
import * as fs from 'fs';
import type { CaseResult } from './cases';
import { bestFixed, bestOther, type ContentionResult, speedRatio } from './cnn-report';
import { formatRate } from './report';
import { median as medianOf } from '../lib/bench/timing';
import { WASM_RIVALS } from './options';

/** What combine reads of a run's JSON (bench/run.ts writes more). */
export interface RunJson {
  results?: CaseResult[];
  cnn?: { results?: CaseResult[] };
  contention?: ContentionResult[];
  load?: { before: number; after: number };
}

/** The median of the numbers (timing.ts's: the mean of the middle two for an even count); null for none. */
export function median(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : medianOf(xs);
}

const keyOf = (r: CaseResult): string => `${r.model ?? 'lenet'}:${r.case}:${r.batch}`;
const ratioText = (x: number | null): string => (x === null ? '-' : `${x.toFixed(2)}x`);

/** One value per run, "a / b / c" ("-" where a run has none). */
function perRun<T>(runs: readonly T[], pick: (run: T) => string): string {
  return runs.map(pick).join(' / ');
}

/** Per backend: simdnet's system name, and what a case of one run is compared with (undefined: nothing). */
const COMPARE: Record<
  'native' | 'wasm',
  { system: string; rival: (group: readonly CaseResult[], kind: 'train' | 'infer') => CaseResult | undefined }
> = {
  // the native addon against the fastest other library
  native: { system: 'simdnet', rival: (group) => bestOther(group) },
  // the WebAssembly backend against issue 13's yardsticks (tfjs-wasm for inference, tfjs-cpu for training)
  wasm: { system: 'simdnet-wasm', rival: (group, kind) => group.find((r) => r.system === WASM_RIVALS[kind]) },
};

/**
 * A Markdown table with a row per (model, case, batch) that `backend` ran: its images/s in each run, those of what it
 * is compared with (named), its ratio to that in each run, and the median of those ratios.
 */
export function casesAcrossRuns(runs: readonly RunJson[], backend: 'native' | 'wasm' = 'native'): string {
  const { system, rival } = COMPARE[backend];
  const groups = runs.map((run) => {
    const byKey = new Map<string, CaseResult[]>();
    for (const r of [...(run.results ?? []), ...(run.cnn?.results ?? [])]) {
      const list = byKey.get(keyOf(r)) ?? [];
      list.push(r);
      byKey.set(keyOf(r), list);
    }
    return byKey;
  });
  const keys = [
    ...new Set(
      groups.flatMap((g) => [...g.entries()].filter(([, rs]) => rs.some((r) => r.system === system)).map(([k]) => k)),
    ),
  ];
  if (keys.length === 0) return '';
  const lines = [
    `| model, case, batch | ${system} images/s | compared with, images/s | ${system} ÷ that | median ratio |`,
    '|---|---|---|---|---|',
  ];
  for (const key of keys) {
    const [model, kind, batch] = key.split(':') as [string, 'train' | 'infer', string];
    const rows = groups.map((g) => g.get(key) ?? []);
    const mine = rows.map((group) => group.find((r) => r.system === system));
    const theirs = rows.map((group) => rival(group, kind));
    const ratios = mine.map((s, i) => speedRatio(s, theirs[i]));
    const rate = (r: CaseResult | undefined): string => (r?.imagesPerSec ? formatRate(r.imagesPerSec) : '-');
    lines.push(
      `| ${[
        `${model}, ${kind}, batch ${batch}`,
        perRun(mine, rate),
        perRun(theirs, (r) => (r ? `${rate(r)} ${r.system}` : '-')),
        perRun(ratios, ratioText),
        ratioText(median(ratios.filter((x): x is number => x !== null))),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** The contention rows: the default thread setting ÷ the best fixed count in each run, and their median. */
export function contentionAcrossRuns(runs: readonly RunJson[]): string {
  const keys = [
    ...new Set(runs.flatMap((run) => (run.contention ?? []).map((r) => `${r.model ?? 'lenet'}:${r.batch}`))),
  ];
  if (keys.length === 0) return '';
  const lines = ['| with one busy loop | default ÷ best fixed | median |', '|---|---|---|'];
  for (const key of keys) {
    const ratios = runs.map((run) => {
      const group = (run.contention ?? []).filter((r) => `${r.model ?? 'lenet'}:${r.batch}` === key);
      return speedRatio(
        group.find((r) => r.threads === null),
        bestFixed(group),
      );
    });
    const [model, batch] = key.split(':');
    lines.push(
      `| ${model} train, batch ${batch} | ${perRun(ratios, ratioText)} | ${ratioText(median(ratios.filter((x): x is number => x !== null)))} |`,
    );
  }
  return lines.join('\n');
}

function main(files: string[]): void {
  if (files.length === 0) {
    console.error(
      'usage: node build/bench/bench/combine.js RUN.json [RUN.json ...]  (from `npm run bench -- --json RUN.json`)',
    );
    process.exit(2);
  }
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as RunJson);
  console.log(`Runs, in order: ${files.join(', ')}`);
  console.log(
    `Load average before/after: ${perRun(runs, (r) => (r.load ? `${r.load.before.toFixed(1)}-${r.load.after.toFixed(1)}` : '?'))}\n`,
  );
  const tables = [casesAcrossRuns(runs), casesAcrossRuns(runs, 'wasm'), contentionAcrossRuns(runs)];
  console.log(tables.filter((t) => t !== '').join('\n\n'));
}

if (require.main === module) main(process.argv.slice(2));
