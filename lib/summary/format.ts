// SPDX-License-Identifier: MIT
// formatSummary(): renders a ModelSummary as a torchinfo-like text table with totals (the counting is summary.ts).
import { formatShape } from '../tensor/shape';
import type { ModelSummary } from './summary';

/**
 * The summary as a table, one row per layer (name, type, output shape, parameters, MACs, output
 * values, their memory and the change from the layer's input), then totals: parameters, MACs,
 * "FLOPs = 2 x MACs", input and output activations with the change between them, and the memory
 * of all layer outputs. Lines are joined with "\n"; there is no trailing newline.
 *
 * @example
 * console.log(formatSummary(summary(new LeNet(), [1, 3, 32, 32])));
 * // Layer (type)       Output shape     Params     MACs  Activations     Memory  Change
 * // ==================================================================================
 * // input              [1, 3, 32, 32]                          3,072  12.00 KiB
 * // conv1 (Conv2d)     [1, 6, 28, 28]      456  352,800        4,704  18.38 KiB  +53.1%
 * // ...
 * // Total params: 62,006 (trainable)
 * // Total MACs: 651,720 (multiply-adds for a batch of 1 image)
 * // FLOPs = 2 x MACs: 1,303,440
 */
export function formatSummary(s: ModelSummary): string {
  const head = ['Layer (type)', 'Output shape', 'Params', 'MACs', 'Activations', 'Memory', 'Change'];
  const rows: string[][] = [
    ['input', formatShape(s.inputShape), '', '', count(s.inputActivations.values), bytes(s.inputActivations.bytes), ''],
  ];
  for (const l of s.layers) {
    rows.push([
      l.name === '' ? l.type : `${l.name} (${l.type})`,
      formatShape(l.outputShape),
      count(l.params),
      count(l.macs) + (l.known ? '' : '*'),
      count(l.activations.values),
      bytes(l.activations.bytes),
      percent(l.activationChange),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The first two columns are text (left-aligned), the rest numbers (right-aligned).
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '='.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const batch = s.inputShape[0];
  const out = [line(head), rule, ...rows.map(line), rule];
  out.push(`Total params: ${count(s.totalParams)} (trainable)`);
  out.push(`Total MACs: ${count(s.totalMacs)} (multiply-adds for a batch of ${batch}${batch === 1 ? ' image' : ''})`);
  out.push(`FLOPs = 2 x MACs: ${count(s.flops)}`);
  out.push(`Input activations: ${count(s.inputActivations.values)} values (${bytes(s.inputActivations.bytes)})`);
  out.push(
    `Output activations: ${count(s.outputActivations.values)} values (${bytes(s.outputActivations.bytes)}), ${percent(s.activationChange)} change from the input`,
  );
  out.push(
    `Layer outputs in total: ${count(s.totalActivations.values)} values (${bytes(s.totalActivations.bytes)} at ${s.bytesPerValue} bytes per value)`,
  );
  out.push(macsFootnote(s));
  if (s.layers.some((l) => !l.known))
    out.push('* layer without a MAC rule; it has no parameters and keeps the shape, so 0 MACs are assumed.');
  return out.join('\n');
}

/**
 * What the MACs column counted, from the rows themselves so it holds for any model (and for rules added with
 * registerMacCounter): "MACs: multiply-adds of Conv2d, BatchNorm2d and Linear (batch norm: one per value); bias adds
 * and the other layers (pooling, activations, reshapes) count 0."
 */
function macsFootnote(s: ModelSummary): string {
  const counted = [...new Set(s.layers.filter((l) => l.macs > 0).map((l) => l.type))];
  if (counted.length === 0)
    return 'MACs: no layer here multiplies and adds (pooling, activations and reshapes count 0).';
  const list =
    counted.length === 1 ? counted[0] : `${counted.slice(0, -1).join(', ')} and ${counted[counted.length - 1]}`;
  const bn = counted.some((t) => /^BatchNorm/.test(t)) ? ' (batch norm: one per value, x * scale + shift)' : '';
  return `MACs: multiply-adds of ${list}${bn}; bias adds and the other layers (pooling, activations, reshapes) count 0.`;
}

/** 1474560 -> "1,474,560". */
export function count(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

/** A fraction as a signed percentage: -0.5 -> "-50%", 1 -> "+100%", 0 -> "0%", 0.5312 -> "+53.1%". */
export function percent(fraction: number): string {
  const p = fraction * 100;
  const rounded = Math.round(p);
  const text = Math.abs(p - rounded) < 1e-9 ? String(rounded) : p.toFixed(1);
  if (Number(text) === 0) return '0%';
  return `${p > 0 ? '+' : ''}${text}%`;
}

/** Bytes in binary units: 512 -> "512 B", 2097152 -> "2.00 MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}
