#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The `simdnet` executable: wires process.argv, the standard streams, Ctrl+C and the exit code to runCli.
import { runCli } from './program';

// A closed pipe (`simdnet eval ... | head -1`) is a normal way to stop reading: exit quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  process.stderr.write('\ninterrupted: stopping after the current batch (Ctrl+C again to quit now)\n');
  controller.abort();
});

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
