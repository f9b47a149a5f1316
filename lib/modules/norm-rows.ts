// SPDX-License-Identifier: MIT
// The maths LayerNorm and GroupNorm share: normalise each row of an [R, M] view to mean 0 and variance 1 (biased), then
// scale and shift per element, with the weights repeating every P rows; and its backward.

/** Per-row statistics of a forward pass, kept for backward. */
export interface RowStats {
  mean: Float64Array;
  rstd: Float64Array;
}

/**
 * out[r, j] = (x[r, j] - mean_r) * rstd_r * w[(r % P) * M + j] + b[...] for `rows` rows of `m` values, where P is
 * w.length / m (w and b null: no affine step). Statistics are summed in float64, the variance in two passes.
 */
export function normRowsForward(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array | null,
  b: Float32Array | null,
  rows: number,
  m: number,
  eps: number,
): RowStats {
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  const period = w ? w.length / m : 1;
  for (let r = 0; r < rows; r++) {
    const o = r * m;
    let sum = 0;
    for (let j = 0; j < m; j++) sum += x[o + j];
    const mu = sum / m;
    let sq = 0;
    for (let j = 0; j < m; j++) {
      const d = x[o + j] - mu;
      sq += d * d;
    }
    const rs = 1 / Math.sqrt(sq / m + eps);
    mean[r] = mu;
    rstd[r] = rs;
    const wo = (r % period) * m;
    for (let j = 0; j < m; j++) {
      const xhat = (x[o + j] - mu) * rs;
      out[o + j] = w ? xhat * w[wo + j] + (b ? b[wo + j] : 0) : b ? xhat + b[wo + j] : xhat;
    }
  }
  return { mean, rstd };
}

/**
 * Backward of normRowsForward: dx (null: not needed) is written, dw and db (laid out as w) are accumulated with
 * sum(g * xhat) and sum(g). dx = rstd * (g w - mean(g w) - xhat * mean(g w xhat)) per row.
 */
export function normRowsBackward(
  dx: Float32Array | null,
  dw: Float32Array | null,
  db: Float32Array | null,
  g: Float32Array,
  x: Float32Array,
  stats: RowStats,
  w: Float32Array | null,
  rows: number,
  m: number,
): void {
  const period = w ? w.length / m : dw ? dw.length / m : db ? db.length / m : 1;
  for (let r = 0; r < rows; r++) {
    const o = r * m;
    const wo = (r % period) * m;
    const mu = stats.mean[r];
    const rs = stats.rstd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < m; j++) {
      const xhat = (x[o + j] - mu) * rs;
      const gw = w ? g[o + j] * w[wo + j] : g[o + j];
      sumG += gw;
      sumGX += gw * xhat;
      if (dw) dw[wo + j] += g[o + j] * xhat;
      if (db) db[wo + j] += g[o + j];
    }
    if (!dx) continue;
    const meanG = sumG / m;
    const meanGX = sumGX / m;
    for (let j = 0; j < m; j++) {
      const xhat = (x[o + j] - mu) * rs;
      const gw = w ? g[o + j] * w[wo + j] : g[o + j];
      dx[o + j] = rs * (gw - meanG - xhat * meanGX);
    }
  }
}
