// SPDX-License-Identifier: MIT
// A hand-written SVG line chart (axes, "nice" ticks, grid, legend, polylines with point markers); knows nothing of training.

/** One line of a chart. Points with a non-finite coordinate are skipped and break the line. */
export interface ChartSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  dashed?: boolean;
}

/** A chart panel placed at (x, y) in the document, width x height pixels including its margins. */
export interface ChartPanel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  x: number;
  y: number;
  width: number;
  height: number;
  /** Ticks on the x axis only at integers (epochs). Default false. */
  integerX?: boolean;
  /** The y axis never extends past these bounds (e.g. [0, 100] for percentages). */
  yLimits?: readonly [number, number];
}

// The top margin holds the panel title and, under it, the legend: outside the plot area, so no line is ever hidden.
const MARGIN = { left: 60, right: 16, top: 52, bottom: 46 };
/** Legend geometry: marker line, gap to its text, estimated width of a 12 px character, space between entries. */
const LEGEND = { line: 20, gap: 6, char: 7, between: 16, height: 16 };

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * About `count` evenly spaced round tick values (steps of 1, 2 or 5 times a power of ten) covering
 * [min, max], and the axis range [first tick, last tick]. A flat range is widened around its value.
 *
 * @example
 * niceTicks(0.13, 0.92); // { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], lo: 0, hi: 1, step: 0.2 }
 */
export function niceTicks(
  min: number,
  max: number,
  count = 5,
  integer = false,
): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
    const pad = integer ? 1 : Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    [min, max] = [min - pad, max + pad];
    count = Math.max(count, 2);
  }
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // The candidate nearest to raw on a log scale, so the tick count stays close to `count`.
  let step = [1, 2, 5, 10]
    .map((m) => m * power)
    .reduce((best, s) => (Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best));
  if (integer) step = Math.max(1, Math.round(step));
  const lo = roundTo(Math.floor(min / step + 1e-9) * step, step);
  const hi = roundTo(Math.ceil(max / step - 1e-9) * step, step);
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.push(roundTo(lo + i * step, step));
  return { ticks, lo, hi, step };
}

/** The SVG elements of one chart panel (a <g>), to place in svgDocument(). */
export function chartPanel(p: ChartPanel): string {
  const finite = (s: ChartSeries) => s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const all = p.series.flatMap(finite);
  const xs = all.map(([a]) => a);
  const ys = all.map(([, b]) => b);
  const xt = niceTicks(Math.min(...xs), Math.max(...xs), Math.min(8, Math.max(1, new Set(xs).size - 1)), p.integerX);
  const yt = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  if (p.yLimits) {
    yt.lo = Math.max(yt.lo, p.yLimits[0]);
    yt.hi = Math.min(yt.hi, p.yLimits[1]);
    yt.ticks = yt.ticks.filter((t) => t >= yt.lo && t <= yt.hi);
  }
  const [left, top] = [p.x + MARGIN.left, p.y + MARGIN.top];
  const [w, h] = [p.width - MARGIN.left - MARGIN.right, p.height - MARGIN.top - MARGIN.bottom];
  const sx = (v: number) => left + ((v - xt.lo) / (xt.hi - xt.lo)) * w;
  const sy = (v: number) => top + h - ((v - yt.lo) / (yt.hi - yt.lo)) * h;
  const out: string[] = [`<g class="panel" data-title="${escapeXml(p.title)}">`];
  out.push(
    `<text x="${fmt(left + w / 2)}" y="${fmt(p.y + 20)}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(p.title)}</text>`,
  );
  for (const t of yt.ticks) {
    out.push(
      `<line class="grid" x1="${fmt(left)}" y1="${fmt(sy(t))}" x2="${fmt(left + w)}" y2="${fmt(sy(t))}" stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text class="ytick" x="${fmt(left - 6)}" y="${fmt(sy(t) + 4)}" text-anchor="end">${tickLabel(t, yt.step)}</text>`,
    );
  }
  for (const t of xt.ticks) {
    out.push(
      `<line x1="${fmt(sx(t))}" y1="${fmt(top + h)}" x2="${fmt(sx(t))}" y2="${fmt(top + h + 5)}" stroke="#333"/>`,
    );
    out.push(
      `<text class="xtick" x="${fmt(sx(t))}" y="${fmt(top + h + 18)}" text-anchor="middle">${tickLabel(t, xt.step)}</text>`,
    );
  }
  out.push(
    `<path class="axes" d="M${fmt(left)},${fmt(top)} V${fmt(top + h)} H${fmt(left + w)}" fill="none" stroke="#333"/>`,
  );
  out.push(
    `<text x="${fmt(left + w / 2)}" y="${fmt(top + h + 38)}" text-anchor="middle">${escapeXml(p.xLabel)}</text>`,
  );
  const ly = top + h / 2;
  out.push(
    `<text x="${fmt(p.x + 16)}" y="${fmt(ly)}" text-anchor="middle" transform="rotate(-90 ${fmt(p.x + 16)} ${fmt(ly)})">${escapeXml(p.yLabel)}</text>`,
  );
  for (const s of p.series) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    for (const run of finiteRuns(s.points)) {
      const pts = run.map(([a, b]) => `${fmt(sx(a))},${fmt(sy(b))}`).join(' ');
      out.push(
        `<polyline data-series="${escapeXml(s.name)}" points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
      );
    }
    for (const [a, b] of finite(s)) out.push(`<circle cx="${fmt(sx(a))}" cy="${fmt(sy(b))}" r="3" fill="${s.color}"/>`);
  }
  // Legend: one row between the title and the plot area, right-aligned with the plot (never over a curve: the
  // accuracy curves end in the top-right corner, where a legend inside the plot would sit).
  const shown = p.series.filter((s) => finite(s).length > 0);
  const entryWidth = (s: ChartSeries) => LEGEND.line + LEGEND.gap + LEGEND.char * s.name.length;
  const lw = shown.reduce((sum, s) => sum + entryWidth(s), 0) + LEGEND.between * Math.max(0, shown.length - 1);
  const legendTop = top - 4 - LEGEND.height; // the legend's top; its bottom is 4 px above the plot area
  let x0 = Math.max(p.x + 4, left + w - lw);
  out.push(
    `<g class="legend"><rect x="${fmt(x0 - 4)}" y="${fmt(legendTop)}" width="${fmt(lw + 8)}" height="${LEGEND.height}" fill="white" stroke="none"/>`,
  );
  for (const s of shown) {
    const y0 = legendTop + 12;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${fmt(x0)}" y1="${fmt(y0 - 4)}" x2="${fmt(x0 + LEGEND.line)}" y2="${fmt(y0 - 4)}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    out.push(`<text x="${fmt(x0 + LEGEND.line + LEGEND.gap)}" y="${fmt(y0)}">${escapeXml(s.name)}</text>`);
    x0 += entryWidth(s) + LEGEND.between;
  }
  out.push('</g>', '</g>');
  return out.join('\n');
}

/** A standalone SVG document of the given size holding `parts` on a white background. */
export function svgDocument(width: number, height: number, parts: readonly string[], title?: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    ...(title === undefined ? [] : [`<title>${escapeXml(title)}</title>`]),
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Consecutive runs of points whose coordinates are all finite. */
function finiteRuns(points: readonly (readonly [number, number])[]): (readonly [number, number])[][] {
  const runs: (readonly [number, number])[][] = [[]];
  for (const pt of points) {
    if (Number.isFinite(pt[0]) && Number.isFinite(pt[1])) runs[runs.length - 1].push(pt);
    else if (runs[runs.length - 1].length > 0) runs.push([]);
  }
  return runs.filter((r) => r.length > 0);
}

function roundTo(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(digits, 15)));
}

function tickLabel(v: number, step: number): string {
  return v.toFixed(Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9))));
}

function fmt(v: number): string {
  return String(Math.round(v * 10) / 10);
}
