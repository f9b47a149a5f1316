// SPDX-License-Identifier: MIT
// `simdnet explain conv`: prints a small convolution as the matrix A of y = A x and its backward A^T as a flipped-kernel convolution.
import { Command } from 'commander';
import type { Conv1d } from '../modules/conv1d';
import type { Conv2d } from '../modules/conv2d';
import { EXIT_OK, println, UsageError, type CliIO } from './io';
import { integerAtLeast } from './options';

/** Parsed `simdnet explain conv` options (the defaults: 2 channels of length 4, kernel 3, 2 output channels). */
export interface ExplainConvOptions {
  channelsIn: number;
  channelsOut: number;
  /** Input length (with twoD: height and width). */
  length: number;
  kernel: number;
  stride: number;
  padding: number;
  twoD: boolean;
  numeric: boolean;
  seed?: number;
}

/** The largest flattened input or output printed. */
const MAX_ENTRIES = 64;

/**
 * Adds `explain conv` to the program.
 *
 * @example
 * registerExplain(program, io, setExitCode); // then: simdnet explain conv --numeric --seed 1
 */
export function registerExplain(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  const explain = program.command('explain').description('show what a layer computes, as a matrix');
  explain
    .command('conv')
    .description('print a small convolution as the matrix A of y = A x, and its backward A^T as a convolution')
    .option('--channels-in <n>', 'input channels', integerAtLeast(1), 2)
    .option('--channels-out <n>', 'output channels', integerAtLeast(1), 2)
    .option('--length <n>', 'input length (with --2d: height and width)', integerAtLeast(1), 4)
    .option('--kernel <n>', 'kernel size', integerAtLeast(1), 3)
    .option('--stride <n>', 'stride', integerAtLeast(1), 1)
    .option('--padding <n>', 'zero padding on each side', integerAtLeast(0), 0)
    .option('--2d', 'a Conv2d on length x length inputs instead of a Conv1d')
    .option('--numeric', 'print the numbers of randomly initialised weights instead of their names')
    .option('--seed <n>', 'seed of the weights with --numeric', integerAtLeast(0))
    .addHelpText(
      'after',
      '\nExample (the default: a 4 x 8 matrix):\n  simdnet explain conv --channels-in 2 --channels-out 2 --length 4 --kernel 3',
    )
    .action(async (o: Omit<ExplainConvOptions, 'twoD' | 'numeric'> & { '2d'?: boolean; numeric?: boolean }) => {
      setExitCode(await runExplainConv({ ...o, twoD: o['2d'] === true, numeric: o.numeric === true }, io));
    });
}

/**
 * Runs `simdnet explain conv` with parsed options; returns the exit code. A kernel that does not fit
 * or a matrix past 64 x 64 throws UsageError (exit code 2).
 *
 * @example
 * await runExplainConv({ channelsIn: 2, channelsOut: 2, length: 4, kernel: 3, stride: 1, padding: 0, twoD: false, numeric: false }, io);
 */
export async function runExplainConv(opts: ExplainConvOptions, io: CliIO): Promise<number> {
  if (opts.seed !== undefined && !opts.numeric)
    throw new UsageError('--seed needs --numeric (symbolic weights have no values)');
  const { channelsIn: c, channelsOut: o, length: l, kernel: k, stride: s, padding: p } = opts;
  if (l + 2 * p < k) throw new UsageError(`--kernel ${k} is longer than --length ${l} plus 2 x --padding ${p}`);
  const lout = Math.floor((l + 2 * p - k) / s) + 1;
  const dims = opts.twoD ? 2 : 1;
  const [inSize, outSize] = [c * l ** dims, o * lout ** dims];
  if (inSize > MAX_ENTRIES || outSize > MAX_ENTRIES) {
    throw new UsageError(
      `the matrix would be ${outSize} x ${inSize}; explain prints at most ${MAX_ENTRIES} x ${MAX_ENTRIES} (use fewer channels or a shorter --length)`,
    );
  }
  const [{ Conv1d }, { Conv2d }, tm, { Generator }, { Tensor }] = await Promise.all([
    import('../modules/conv1d'),
    import('../modules/conv2d'),
    import('../modules/to-matrix'),
    import('../random'),
    import('../tensor/tensor'),
  ]);
  const rng = new Generator(opts.seed ?? 0);
  const options = { inChannels: c, outChannels: o, kernelSize: k, stride: s, padding: p, bias: false, generator: rng };
  const layer: Conv1d | Conv2d = opts.twoD ? new Conv2d(options) : new Conv1d(options);
  const inShape = opts.twoD ? [c, l, l] : [c, l];
  const outShape = opts.twoD ? [o, lout, lout] : [o, lout];
  const width = io.stdout.columns ?? 80;
  const out = (line = '') => println(io.stdout, line);
  // Prose wrapped to the terminal; '~' is a space that never breaks (keeps formulas on one line).
  const say = (text: string) =>
    wrap(
      '',
      text.split(' ').map((t) => t.replace(/~/g, ' ')),
      ' ',
      width,
    ).forEach((line) => out(line));
  const num = (v: number) => (v === 0 ? '0' : v.toFixed(3));

  // y = A x and A^T, as symbols or numbers.
  const a = tm.toMatrix(layer, inShape);
  const cells = opts.numeric
    ? tm.toSymbolicMatrix(layer, inShape).map((row, r) => row.map((_, col) => num(a.data[r * inSize + col])))
    : tm.toSymbolicMatrix(layer, inShape);
  const [xs, ys] = [labels('x', inShape), labels('y', outShape)];
  out(layer.toString());
  out(`input ${inShape.join(' x ')} -> output ${outShape.join(' x ')}, flattened channel-major (1-based):`);
  for (const [name, entries] of [
    ['x', xs],
    ['y', ys],
  ] as const) {
    for (const line of wrap(`  ${name} = (`, [...entries.slice(0, -1), `${entries[entries.length - 1]})`], ' ', width))
      out(line);
  }
  out(`  ${opts.twoD ? 'xchw is channel c, row h, column w' : 'xcp is channel c, position p'}`);
  out(
    `  ${opts.twoD ? 'wa,b(i>j) is tap (a, b)' : 'wk(i>j) is tap k'} of the kernel from input channel i to output channel j`,
  );
  if (opts.numeric) out(`  weights: seed ${opts.seed ?? 0}, PyTorch's default init U(+-1/sqrt(fanIn)), no bias`);
  out();
  out(`y = A x, with A (${outSize} x ${inSize}):`);
  printMatrix(out, ys, xs, cells, opts.numeric, width);
  out();
  out(`Backward: dL/dx = A^T dL/dy, with A^T (${inSize} x ${outSize}):`);
  printMatrix(
    out,
    xs,
    ys,
    cells[0].map((_, col) => cells.map((row) => row[col])),
    opts.numeric,
    width,
  );

  // A^T as a convolution: from channel j of dL/dY to channel i of dL/dX, kernel (i>j) reversed (rotated in 2-D).
  const w = layer.weight.data.data;
  const entry = (ky: number, kx: number, i: number, j: number) =>
    opts.numeric
      ? num(w[((j * c + i) * (opts.twoD ? k : 1) + ky) * k + kx])
      : tm.weightSymbol(opts.twoD ? [ky, kx] : [kx], i, j);
  const reversedRows = (i: number, j: number) =>
    Array.from({ length: opts.twoD ? k : 1 }, (_, ry) =>
      Array.from({ length: k }, (_, rx) => entry(opts.twoD ? k - 1 - ry : 0, k - 1 - rx, i, j)),
    );
  const pad = k - 1 - p;
  const zeros = (n: number) => `${n} zero${n === 1 ? '' : 's'}`;
  const padText = (n: number, where: string) => (n >= 0 ? `pad ${zeros(n)} ${where}` : `crop ${-n} ${where}`);
  const paren = (n: number) => (n < 0 ? `(${n})` : `${n}`);
  const gives = opts.twoD ? 'a side of' : 'length';
  out();
  say('Along a row of A^T the kernel taps run backwards: A^T is itself a convolution.');
  if (s === 1) {
    say(
      `dL/dY has ${o} channel${o > 1 ? 's' : ''} of ${opts.twoD ? `${lout} x ${lout}` : `length ${lout}`}; ${padText(pad, 'on each side')} ` +
        `(kernel~-~1~-~padding~=~${k}~-~1~-~${p}), which gives ${gives} ${lout}~-~${k}~+~2*${paren(pad)}~+~1~=~${l}.`,
    );
  } else {
    const spread = (lout - 1) * s + 1;
    const after = pad + ((l + 2 * p - k) % s);
    say(
      `With stride ${s} it is a transposed convolution: put ${zeros(s - 1)} between neighbours of dL/dY (${gives} ${spread}), ` +
        `${padText(pad, 'before')} and ${padText(after, 'after')}, which gives ${gives} ${spread}~+~${paren(pad)}~+~${paren(after)}~-~${k}~+~1~=~${l}.`,
    );
  }
  say(
    `Channel i of dL/dX reads channel j of dL/dY through kernel (i>j) ${opts.twoD ? 'rotated 180 degrees (rows and columns reversed), R(i>j)' : 'reversed'}:`,
  );
  for (let i = 0; i < c; i++) {
    const terms = Array.from(
      { length: o },
      (_, j) => `dY${j + 1} * ${opts.twoD ? `R(${i + 1}>${j + 1})` : `[${reversedRows(i, j)[0].join(' ')}]`}`,
    );
    for (const line of wrap(`  dX${i + 1} = `, terms, ' + ', width)) out(line);
  }
  for (let i = 0; opts.twoD && i < c; i++) {
    for (let j = 0; j < o; j++) {
      const rows = reversedRows(i, j);
      const cell = Math.max(...rows.flat().map((v) => v.length));
      const head = `  R(${i + 1}>${j + 1}) = `;
      rows.forEach((row, r) =>
        out(`${r === 0 ? head : ' '.repeat(head.length)}[ ${row.map((v) => v.padStart(cell)).join(' ')} ]`),
      );
    }
  }
  say(
    `(a * K slides K along a, as the layer does.) Every kernel is ${opts.twoD ? 'rotated' : 'reversed'}, not only the first row's (an easy slip when done by hand).`,
  );

  if (opts.numeric) {
    // The matrix against the layer itself: forward and backward on random x and g = dL/dy.
    const x = new Tensor(
      Float32Array.from({ length: inSize }, () => rng.uniform(-1, 1)),
      [1, ...inShape],
    );
    const g = new Tensor(
      Float32Array.from({ length: outSize }, () => rng.uniform(-1, 1)),
      [1, ...outShape],
    );
    const y = layer.forward(x).data;
    const dx = layer.backward(g).data;
    const maxDiff = (got: Float32Array, want: (n: number) => number) =>
      Math.max(...Array.from(got, (v, n) => Math.abs(v - want(n))));
    const ax = maxDiff(y, (r) => x.data.reduce((sum, v, col) => sum + a.data[r * inSize + col] * v, 0));
    const atg = maxDiff(dx, (col) => g.data.reduce((sum, v, r) => sum + a.data[r * inSize + col] * v, 0));
    out();
    out('check with random x and g = dL/dy:');
    out(`  max |A x - forward(x)| = ${ax.toExponential(1)}, max |A^T g - backward(g)| = ${atg.toExponential(1)}`);
  }
  return EXIT_OK;
}

/** Names of a flattened tensor's entries, 1-based: "x12" (channel 1, position 2), or "x1,12" once an index passes 9. */
function labels(prefix: string, shape: number[]): string[] {
  const single = shape.every((n) => n <= 9);
  const names: string[] = [];
  const visit = (index: number[], dim: number): void => {
    if (dim === shape.length) {
      names.push(prefix + index.join(single ? '' : ','));
      return;
    }
    for (let v = 1; v <= shape[dim]; v++) visit([...index, v], dim + 1);
  };
  visit([], 0);
  return names;
}

/** A labelled grid if it fits in `width` columns; otherwise one sum per row ("y11 = w1(1>1) x11 + ..."). */
function printMatrix(
  out: (line: string) => void,
  rowNames: string[],
  colNames: string[],
  cells: string[][],
  numeric: boolean,
  width: number,
): void {
  const cell = Math.max(...colNames.map((n) => n.length), ...cells.flat().map((v) => v.length));
  const head = Math.max(...rowNames.map((n) => n.length));
  const align = (v: string) => (numeric ? v.padStart(cell) : v.padEnd(cell));
  if (head + 3 + colNames.length * (cell + 1) + 1 <= width) {
    out(`${' '.repeat(head + 3)}${colNames.map(align).join(' ')}`.trimEnd());
    cells.forEach((row, r) => out(`${rowNames[r].padEnd(head)} [ ${row.map(align).join(' ')} ]`));
    return;
  }
  cells.forEach((row, r) => {
    const terms = row.flatMap((v, col) => (v === '0' ? [] : [`${v} ${colNames[col]}`]));
    for (const line of wrap(`${rowNames[r].padEnd(head)} = `, terms.length ? terms : ['0'], ' + ', width)) out(line);
  });
}

/** Joins terms after `first` with `sep`, breaking lines (indented under the first term) to fit `width`. */
function wrap(first: string, terms: string[], sep: string, width: number): string[] {
  const lines: string[] = [];
  let line = first + terms[0];
  for (const t of terms.slice(1)) {
    if (line.length + sep.length + t.length > width) {
      lines.push(line);
      line = ' '.repeat(first.length) + sep.trimStart() + t;
    } else {
      line += sep + t;
    }
  }
  lines.push(line);
  return lines;
}
