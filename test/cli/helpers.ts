// SPDX-License-Identifier: MIT
// Test helpers for the CLI: run it in-process with captured streams, and make temp folders.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../lib/cli/program';
import type { CliIO } from '../../lib/cli/io';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Non-empty stdout lines. */
  out: string[];
  /** Non-empty stderr lines. */
  err: string[];
}

/** Captures a stream; `onLine` sees every complete line as it is written. */
export function capture(
  onLine?: (line: string) => void,
  isTTY = false,
): { write(s: string): boolean; text: () => string; isTTY: boolean } {
  let text = '';
  let partial = '';
  return {
    isTTY,
    write(s: string) {
      text += s;
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      if (onLine) for (const l of lines) onLine(l);
      return true;
    },
    text: () => text,
  };
}

/** Runs `simdnet ...argv` in-process. */
export async function cli(
  argv: string[],
  extra: Partial<CliIO> & { onStdoutLine?: (line: string) => void } = {},
): Promise<CliRun> {
  const stdout = capture(extra.onStdoutLine);
  const stderr = capture();
  const code = await runCli(argv, { stdout, stderr, env: extra.env ?? {}, signal: extra.signal });
  const lines = (s: string) => s.split('\n').filter((l) => l !== '');
  return { code, stdout: stdout.text(), stderr: stderr.text(), out: lines(stdout.text()), err: lines(stderr.text()) };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The `simdnet train` model line without its "; isa ..., threads ..." tail (the thread count follows the load). */
export function withoutKernels(line: string): string {
  return line.replace(/; isa \w+, threads \d+( \(auto, up to \d+\))?$/, '');
}

/** The argv of a `simdnet train` run on `data` that saves to `out` and prints no progress, then `flags`. */
export function quietTrain(data: string, out: string, ...flags: string[]): string[] {
  return ['train', '--data', data, '--progress', 'none', '--out', out, ...flags];
}
