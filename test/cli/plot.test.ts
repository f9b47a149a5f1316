// SPDX-License-Identifier: MIT
// Tests of `simdnet plot` (lib/cli/plot.ts): writes the SVG, and every bad input is one stderr line with the right exit code.
import * as fs from 'fs';
import * as path from 'path';
import { writeJsonAtomic } from '../../lib/io/atomic-file';
import { cli, tempDir } from './helpers';
import { attributes, checkSvg } from '../plot/svg-check';

let dir: string;
const at = (name: string) => path.join(dir, name);
beforeAll(() => {
  dir = tempDir('simdnet-plot-');
  const epochs = [1, 2, 3].map((epoch) => ({
    epoch,
    trainLoss: 2 / epoch,
    trainAccuracy: 0.2 * epoch,
    testLoss: 2.2 / epoch,
    testAccuracy: 0.18 * epoch,
    seconds: 1,
    imagesPerSecond: 100,
  }));
  writeJsonAtomic(at('history.json'), { epochs, stopped: false });
  writeJsonAtomic(at('empty.json'), { epochs: [], stopped: true, stoppedAt: { epoch: 1, batch: 3 } });
  fs.writeFileSync(at('broken.json'), '{"epochs": [');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('plot --history --out writes the SVG and says so', async () => {
  const r = await cli([
    'plot',
    '--history',
    at('history.json'),
    '--out',
    at('curves.svg'),
    '--title',
    'LeNet & CIFAR-10',
  ]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.out).toEqual([`wrote ${at('curves.svg')} (3 epochs)`]);
  const svg = fs.readFileSync(at('curves.svg'), 'utf8');
  checkSvg(svg);
  expect(attributes(svg, 'data-series')).toEqual(['train loss', 'test loss', 'train accuracy', 'test accuracy']);
  expect(svg).toContain('LeNet &amp; CIFAR-10: 3 epochs');
});

test('--help lists the flags', async () => {
  const r = await cli(['plot', '--help']);
  expect(r.code).toBe(0);
  for (const flag of ['--history <file>', '--out <file>', '--title <text>']) expect(r.stdout).toContain(flag);
});

test.each([
  ['no --history', ['plot'], 2, /required option '--history <file>' not specified/],
  ['a missing history', ['plot', '--history', 'no/such.json'], 2, /--history: no\/such.json does not exist/],
  [
    '--out that is not .svg',
    ['plot', '--history', '{h}', '--out', '{dir}/curves.png'],
    2,
    /--out: .*curves.png must end in .svg/,
  ],
  [
    '--out in a missing folder',
    ['plot', '--history', '{h}', '--out', 'no/such/c.svg'],
    2,
    /--out: folder no\/such does not exist/,
  ],
  [
    'a history that is not JSON',
    ['plot', '--history', '{dir}/broken.json', '--out', '{dir}/x.svg'],
    2,
    /broken.json: not a JSON history/,
  ],
  [
    'a history without epochs',
    ['plot', '--history', '{dir}/empty.json', '--out', '{dir}/x.svg'],
    2,
    /empty.json: the history has no finished epoch to plot/,
  ],
])('%s: its exit code and one line', async (_name, argv, code, message) => {
  const r = await cli(argv.map((a) => a.replace('{h}', at('history.json')).replace('{dir}', dir)));
  expect(r).toMatchObject({ code, stdout: '' });
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(message);
  expect(fs.existsSync(at('x.svg'))).toBe(false);
});
