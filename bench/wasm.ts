// SPDX-License-Identifier: MIT
// simdnet on its WebAssembly backend in the same run as everything else: the library's binding object is
// pointed at the wasm build's functions while the "simdnet-wasm" cases run, then back at the addon.
// Also the ratios issue 13 asks for: training vs tfjs-cpu, inference vs tfjs-wasm.
import { loadWasmBinding } from '../lib/backend/wasm-node';
import { native } from '../lib/native';
import type { CaseResult } from './cases';
import { WASM_RIVALS } from './options';

// Which wasm build ran, on how many threads (the threaded build is the default where it can run).
let wasmRun = 'not run';

/** Runs `fn` with lib/native's functions taken from the WebAssembly build; restores the addon's after. */
export async function withWasmBackend<T>(fn: () => Promise<T>): Promise<T> {
  const wasm = loadWasmBinding();
  const info = wasm.kernelInfo();
  wasmRun = `${info.wasmBuild === 'threads' ? 'threaded' : 'one-thread'} build, ${info.threads} thread(s)`;
  const saved = { ...native };
  Object.assign(native, wasm);
  try {
    return await fn();
  } finally {
    Object.assign(native, saved);
  }
}

/** "simdnet-wasm train b64 = 123x tfjs-cpu" etc., for every batch both systems ran. */
export function wasmRatios(results: CaseResult[]): string {
  const rate = (system: string, kind: string, batch: number) =>
    results.find((r) => r.system === system && r.case === kind && r.batch === batch)?.imagesPerSec ?? null;
  const lines: string[] = [];
  for (const [kind, other] of Object.entries(WASM_RIVALS)) {
    for (const r of results.filter((x) => x.system === 'simdnet-wasm' && x.case === kind)) {
      const mine = r.imagesPerSec;
      const theirs = rate(other, kind, r.batch);
      const native = rate('simdnet', kind, r.batch);
      if (!mine) continue;
      const vs = theirs ? `${(mine / theirs).toFixed(1)}x ${other}` : `${other}: no result`;
      const ofNative = native ? `, ${((100 * mine) / native).toFixed(0)}% of native simdnet` : '';
      lines.push(`  ${kind} batch ${r.batch}: simdnet-wasm ${mine.toFixed(1)} images/s = ${vs}${ofNative}`);
    }
  }
  return lines.length ? `WebAssembly backend (${wasmRun}):\n${lines.join('\n')}` : '';
}
