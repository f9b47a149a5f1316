// SPDX-License-Identifier: MIT
// Tests of `simdnet explain conv`: seed-examples section 3 by default, the numeric and 2-D variants, and one-line usage errors.
import { Conv1d } from '../../lib/modules/conv1d';
import { toMatrix } from '../../lib/modules/to-matrix';
import { Generator } from '../../lib/random';
import { cli } from './helpers';

// shared/seed-examples.md section 3: the rows of A (4 x 8) for 2 channels of length 4, kernel 3, 2 output channels.
const SECTION3 = [
  'y11 [ w1(1>1) w2(1>1) w3(1>1) 0 w1(2>1) w2(2>1) w3(2>1) 0 ]',
  'y12 [ 0 w1(1>1) w2(1>1) w3(1>1) 0 w1(2>1) w2(2>1) w3(2>1) ]',
  'y21 [ w1(1>2) w2(1>2) w3(1>2) 0 w1(2>2) w2(2>2) w3(2>2) 0 ]',
  'y22 [ 0 w1(1>2) w2(1>2) w3(1>2) 0 w1(2>2) w2(2>2) w3(2>2) ]',
];
const squash = (line: string) => line.trim().split(/\s+/).join(' ');
/** The grid rows of the matrix printed after the line starting with `title`. */
function gridAfter(lines: string[], title: string): string[] {
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (const l of lines.slice(start + 2)) {
    if (!/^\S+ \[/.test(l)) break;
    rows.push(squash(l));
  }
  return rows;
}

describe('simdnet explain conv', () => {
  test('by default prints exactly section 3: A, A^T and the flipped-kernel convolution with padding 2', async () => {
    const r = await cli(['explain', 'conv']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.out[0]).toBe('Conv1d(2, 2, kernelSize=3, bias=false)');
    expect(r.out).toContain('  x = (x11 x12 x13 x14 x21 x22 x23 x24)');
    expect(r.out).toContain('  y = (y11 y12 y21 y22)');
    expect(gridAfter(r.out, 'y = A x, with A (4 x 8)')).toEqual(SECTION3);
    const aT = gridAfter(r.out, 'Backward: dL/dx = A^T dL/dy, with A^T (8 x 4)');
    expect(aT).toHaveLength(8);
    expect(aT[1]).toBe('x12 [ w2(1>1) w1(1>1) w2(1>2) w1(1>2) ]');
    expect(r.stdout).toContain('pad 2 zeros on each side');
    expect(r.stdout).toContain('which gives length 2 - 3 + 2*2 + 1 = 4.');
    // Every kernel reversed, the channels swapped (the course answer reversed only the first row: its slip).
    expect(r.out).toContain('  dX1 = dY1 * [w3(1>1) w2(1>1) w1(1>1)] + dY2 * [w3(1>2) w2(1>2) w1(1>2)]');
    expect(r.out).toContain('  dX2 = dY1 * [w3(2>1) w2(2>1) w1(2>1)] + dY2 * [w3(2>2) w2(2>2) w1(2>2)]');
    expect(r.stdout).toMatch(/not only\s+the first row's \(an easy slip when done by hand\)/);
    for (const line of r.out) expect(line.length).toBeLessThanOrEqual(80);
    const explicit = await cli([
      'explain',
      'conv',
      '--channels-in',
      '2',
      '--channels-out',
      '2',
      '--length',
      '4',
      '--kernel',
      '3',
      '--stride',
      '1',
      '--padding',
      '0',
    ]);
    expect(explicit.stdout).toBe(r.stdout);
  });

  test('--numeric --seed prints the matrix of a Conv1d initialised with that seed, and checks it against the layer', async () => {
    const r = await cli(['explain', 'conv', '--numeric', '--seed', '3']);
    expect(r.code).toBe(0);
    const a = toMatrix(
      new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false, generator: new Generator(3) }),
      [2, 4],
    );
    const rows = gridAfter(r.out, 'y = A x, with A (4 x 8)').map((l) =>
      l
        .replace(/^\S+ \[ | \]$/g, '')
        .split(' ')
        .map(Number),
    );
    expect(rows).toHaveLength(4);
    rows.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - a.at(i, j))).toBeLessThanOrEqual(5e-4)));
    const w = (k: number) => a.at(0, k).toFixed(3);
    expect(r.stdout).toContain(`dX1 = dY1 * [${w(2)} ${w(1)} ${w(0)}]`);
    const check = /max \|A x - forward\(x\)\| = (\S+), max \|A\^T g - backward\(g\)\| = (\S+)/.exec(r.stdout)!;
    expect(Number(check[1])).toBeLessThan(1e-5);
    expect(Number(check[2])).toBeLessThan(1e-5);
    expect((await cli(['explain', 'conv', '--numeric'])).stdout).toContain('weights: seed 0');
  });

  test('--2d prints a Conv2d as one sum per row when the grid is too wide, and rotated kernels', async () => {
    const r = await cli(['explain', 'conv', '--2d']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('Conv2d(2, 2, kernelSize=[3, 3], bias=false)');
    expect(r.out).toContain('y = A x, with A (8 x 32):');
    expect(r.stdout).toMatch(/^y111 = w1,1\(1>1\) x111 \+ w1,2\(1>1\) x112 /m);
    expect(r.stdout).toMatch(/rotated\s+180\s+degrees/);
    expect(r.out).toContain('  R(1>2) = [ w3,3(1>2) w3,2(1>2) w3,1(1>2) ]');
    for (const line of r.out) expect(line.length).toBeLessThanOrEqual(80);
    const small = await cli([
      'explain',
      'conv',
      '--2d',
      '--channels-in',
      '1',
      '--channels-out',
      '1',
      '--length',
      '2',
      '--kernel',
      '2',
      '--padding',
      '1',
    ]);
    expect(gridAfter(small.out, 'y = A x, with A (9 x 4)')[0]).toBe('y111 [ w2,2(1>1) 0 0 0 ]');
  });

  test('stride 2 explains A^T as a transposed convolution', async () => {
    const r = await cli(['explain', 'conv', '--stride', '2', '--padding', '1', '--length', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /put 1 zero between neighbours of\s+dL\/dY \(length 5\), pad 1 zero before and pad 1 zero after/,
    );
    expect(r.stdout).toContain('5 + 1 + 1 - 3 + 1 = 5.');
  });

  test.each([
    [['--kernel', '0'], /^error: option '--kernel <n>' argument '0' is invalid/],
    [['--padding', '-1'], /^error: option '--padding <n>' argument '-1' is invalid/],
    [['--stride', 'x'], /^error: option '--stride <n>' argument 'x' is invalid/],
    [['--kernel', '9'], /^error: --kernel 9 is longer than --length 4 plus 2 x --padding 0$/],
    [['--seed', '1'], /^error: --seed needs --numeric/],
    [['--length', '40'], /^error: the matrix would be 76 x 80; explain prints at most 64 x 64/],
    [['--bogus'], /^error: unknown option '--bogus'/],
  ])('%j is a usage error: one line, exit code 2', async (args, message) => {
    const r = await cli(['explain', 'conv', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });

  test('help lists the command and its options', async () => {
    const r = await cli(['explain', 'conv', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--channels-in',
      '--channels-out',
      '--length',
      '--kernel',
      '--stride',
      '--padding',
      '--2d',
      '--numeric',
      '--seed',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect((await cli(['--help'])).stdout).toMatch(/explain/);
  });
});
