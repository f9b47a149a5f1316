// SPDX-License-Identifier: MIT
// The streams and environment a CLI command runs with, the usage-error class, and the one error-to-exit-code mapping.
import { CommanderError } from 'commander';
import { FileFormatError } from '../errors';

/** A writable the CLI prints to (process.stdout/stderr, or a collector in tests). */
export interface CliStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Everything a command touches outside its arguments, so tests can run commands in-process. */
export interface CliIO {
  stdout: CliStream;
  stderr: CliStream;
  /** Environment variables (SIMDNET_DEBUG). Default process.env. */
  env?: Record<string, string | undefined>;
  /** Aborted on Ctrl+C by main.ts: training stops after the current batch and still saves. */
  signal?: AbortSignal;
}

/**
 * Exit codes: 0 ok; 1 the run failed (a download, a disk error, training that diverged, a bug); 2 the command line is
 * wrong (a bad flag or value, a path that does not exist or names a file of the wrong kind, flags that do not fit
 * together); 130 interrupted (Ctrl+C, SIGTERM).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A problem with the command line (a path that does not exist, a conflicting flag): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Writes `text` and a newline. */
export function println(stream: CliStream, text = ''): void {
  stream.write(`${text}\n`);
}

/**
 * The exit code of an error a command threw: the one place that maps error kinds to codes. 2 for what the user named
 * on the command line: commander's parse errors, UsageError (a bad path or flag combination) and FileFormatError (a
 * file given to a flag is not of the kind it takes: not a weights file, not a history, a model that does not fit the
 * dataset); 130 for the abort signal's reason (Ctrl+C); 1 for everything else (downloads, disk errors, divergence).
 *
 * @example
 * exitCodeFor(new UsageError('--data: x does not exist')); // 2
 */
export function exitCodeFor(err: unknown, signal?: AbortSignal): number {
  if (signal?.aborted && err === signal.reason) return EXIT_INTERRUPTED;
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (err instanceof UsageError || err instanceof FileFormatError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/**
 * Prints an error a command threw as one line ("error: ...") and returns its exit code (exitCodeFor); with
 * SIMDNET_DEBUG=1 the stack follows. An error caused by the abort signal prints "error: interrupted".
 */
export function reportError(err: unknown, io: CliIO): number {
  const env = io.env ?? process.env;
  const code = exitCodeFor(err, io.signal);
  if (code === EXIT_INTERRUPTED) {
    println(io.stderr, 'error: interrupted');
    return code;
  }
  const message = err instanceof Error ? err.message : String(err);
  println(io.stderr, `error: ${oneLine(message)}`);
  if (env.SIMDNET_DEBUG === '1' && err instanceof Error && err.stack) println(io.stderr, err.stack);
  return code;
}

/** Joins the lines of a message so an error is always exactly one line. */
export function oneLine(text: string): string {
  return text
    .trim()
    .split(/\s*\n\s*/)
    .join(' ');
}
