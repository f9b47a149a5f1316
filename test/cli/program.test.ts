// SPDX-License-Identifier: MIT
// Tests of lib/cli/program.ts: help lists every flag, --version, and every usage error is one stderr line with exit code 2.
import * as fs from 'fs';
import * as path from 'path';
import { packageVersion } from '../../lib/cli/info';
import { LeNet } from '../../lib/modules/lenet';
import { saveModel } from '../../lib/train/saved-model';
import { writeTinyCifar10 } from './cifar-fixture';
import { cli, tempDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-args-');
  writeTinyCifar10(path.join(dir, 'cifar-10-batches-bin'), 2, 2);
  saveModel(path.join(dir, 'lenet.safetensors'), new LeNet());
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--version prints the package version', async () => {
  const r = await cli(['--version']);
  expect(r).toMatchObject({ code: 0, stdout: `${packageVersion()}\n`, stderr: '' });
});

test('--help lists the commands; each command’s --help lists every flag', async () => {
  const root = await cli(['--help']);
  expect(root.code).toBe(0);
  for (const word of ['train', 'eval', 'info', '--version', '--help', 'Exit codes'])
    expect(root.stdout).toContain(word);
  const flags: Record<string, string[]> = {
    train: [
      '--data <path>',
      '--download',
      '--epochs <n>',
      '--batch-size <n>',
      '--lr <rate>',
      '--seed <n>',
      '--out <file>',
      '--history <file>',
      '--progress <mode>',
      '--limit <n>',
      '--help',
    ],
    eval: ['--weights <file>', '--data <path>', '--batch-size <n>', '--help'],
    info: ['--help'],
  };
  for (const [command, list] of Object.entries(flags)) {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    for (const flag of list) expect(r.stdout).toContain(flag);
    expect(await cli(['help', command])).toMatchObject({ code: 0, stdout: r.stdout });
  }
  expect((await cli(['train', '--help'])).stdout).toMatch(
    /--epochs <n>\s+passes over the training set \(default: 10\)/,
  );
});

describe('usage errors: exit code 2 and exactly one line on stderr', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown flag (with a suggestion)',
      ['train', '--data', '.', '--epoch', '3'],
      /unknown option '--epoch'.*Did you mean --epochs\?/,
    ],
    [
      '--epochs 0',
      ['train', '--data', '.', '--epochs', '0'],
      /'--epochs <n>' argument '0' is invalid\. expected an integer >= 1/,
    ],
    ['--epochs abc', ['train', '--data', '.', '--epochs', 'abc'], /--epochs.*'abc' is invalid/],
    ['--epochs 2.5', ['train', '--data', '.', '--epochs', '2.5'], /--epochs.*'2.5' is invalid/],
    ['--batch-size -1', ['train', '--data', '.', '--batch-size', '-1'], /--batch-size.*'-1' is invalid/],
    ['--lr 0', ['train', '--data', '.', '--lr', '0'], /--lr.*expected a number > 0/],
    ['--lr nan', ['train', '--data', '.', '--lr', 'NaN'], /--lr.*'NaN' is invalid/],
    ['--seed -3', ['train', '--data', '.', '--seed', '-3'], /--seed.*expected an integer >= 0/],
    ['--limit 0', ['train', '--data', '.', '--limit', '0'], /--limit.*expected an integer >= 1/],
    ['--progress loud', ['train', '--data', '.', '--progress', 'loud'], /Allowed choices are auto, bar, log, none/],
    ['a flag without its value', ['train', '--data', '.', '--epochs'], /'--epochs <n>' argument missing/],
    ['missing --data', ['train'], /required option '--data <path>' not specified/],
    ['missing --weights', ['eval', '--data', '.'], /required option '--weights <file>' not specified/],
    ['an extra argument', ['train', 'now', '--data', '.'], /too many arguments for 'train'/],
    ['an unknown command', ['fit'], /unknown command 'fit'/],
    [
      '--data that does not exist',
      ['train', '--data', 'no/such/dir'],
      /--data: no\/such\/dir does not exist \(pass --download/,
    ],
    ['--data without CIFAR-10', ['train', '--data', '{empty}'], /--data: no CIFAR-10 data in .*pass --download/],
    [
      '--data that is some other file',
      ['train', '--data', '{file}'],
      /--data: .*expected a folder or a cifar-10-binary.tar.gz/,
    ],
    [
      '--out in a missing folder',
      ['train', '--data', '{data}', '--out', 'no/such/dir/m.safetensors'],
      /--out: folder no\/such\/dir does not exist/,
    ],
    [
      '--history in a missing folder',
      ['train', '--data', '{data}', '--history', 'no/such/h.json', '--out', '{empty}/m.safetensors'],
      /--history: folder no\/such does not exist/,
    ],
    [
      '--weights that does not exist',
      ['eval', '--weights', 'none.safetensors', '--data', '{data}'],
      /--weights: none.safetensors does not exist/,
    ],
    [
      'eval --data that does not exist: what eval takes, not --download (which eval has not)',
      ['eval', '--weights', '{weights}', '--data', 'no/such/dir'],
      /^error: --data: no\/such\/dir does not exist \(give the folder holding cifar-10-batches-bin\/, that folder, or cifar-10-binary\.tar\.gz\)$/,
    ],
    [
      'eval --data without CIFAR-10',
      ['eval', '--weights', '{weights}', '--data', '{empty}'],
      /^error: --data: no CIFAR-10 data in .*; give the folder holding cifar-10-batches-bin\/, that folder, or cifar-10-binary\.tar\.gz$/,
    ],
    ['--weights that is a folder', ['eval', '--weights', '{data}', '--data', '{data}'], /--weights: .* is not a file/],
  ];
  test.each(cases)('%s', async (_, argv, message) => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hi');
    const subst = (a: string) =>
      a
        .replace('{empty}', empty)
        .replace('{file}', path.join(dir, 'notes.txt'))
        .replace('{weights}', path.join(dir, 'lenet.safetensors'))
        .replace('{data}', dir);
    const r = await cli(argv.map(subst));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toHaveLength(1);
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.err[0]).toMatch(/^error: /);
    expect(r.err[0]).toMatch(message);
  });
});

describe('a mistyped flag gets "Did you mean", in every command, before any "required option" error', () => {
  test.each([
    [['train', '--dat', 'x'], '--dat', '--data'],
    [['eval', '--weigths', 'w.safetensors', '--data', '.'], '--weigths', '--weights'],
    [['predict', '--weigths', 'w.safetensors', 'cat.png'], '--weigths', '--weights'],
    [['plot', '--histroy', 'h.json'], '--histroy', '--history'],
    [['export', '--weigths', 'w.safetensors'], '--weigths', '--weights'],
    [['summary', '--modle', 'lenet'], '--modle', '--model'],
    [['bench', '--batch-sizes', '1'], '--batch-sizes', '--batch-size'],
    [['explain', 'conv', '--kernal', '3'], '--kernal', '--kernel'],
  ])('%j', async (argv, typo, flag) => {
    const r = await cli(argv);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.err).toEqual([`error: unknown option '${typo}' (Did you mean ${flag}?)`]);
  });
  test("a missing required option is still reported, with commander's words", async () => {
    expect((await cli(['eval', '--data', '.'])).err).toEqual([
      "error: required option '--weights <file>' not specified",
    ]);
    expect((await cli(['predict', 'cat.png'])).err).toEqual([
      "error: required option '--weights <file>' not specified",
    ]);
  });
});

test('no command prints the help on stderr with exit code 2', async () => {
  const r = await cli([]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('Usage: simdnet');
});
