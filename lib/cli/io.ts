// SPDX-License-Identifier: MIT
// The streams and environment a CLI command runs with, the usage-error class, and error-to-exit-code mapping.

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

/** Exit codes: 0 ok, 1 runtime error, 2 usage error (bad flag, value or path), 130 interrupted. */
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
 * Prints a runtime error as one line ("error: ...") and returns its exit code; with SIMDNET_DEBUG=1
 * the stack follows. An error caused by the abort signal maps to 130.
 */
export function reportError(err: unknown, io: CliIO): number {
  const env = io.env ?? process.env;
  if (io.signal?.aborted && err === io.signal.reason) {
    println(io.stderr, 'error: interrupted');
    return EXIT_INTERRUPTED;
  }
  const message = err instanceof Error ? err.message : String(err);
  println(io.stderr, `error: ${oneLine(message)}`);
  if (env.SIMDNET_DEBUG === '1' && err instanceof Error && err.stack) println(io.stderr, err.stack);
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/** Joins the lines of a message so an error is always exactly one line. */
export function oneLine(text: string): string {
  return text
    .trim()
    .split(/\s*\n\s*/)
    .join(' ');
}
