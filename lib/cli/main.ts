#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The `simdnet` executable: wires process.argv, the standard streams, Ctrl+C and the exit code to runCli.
import { runCli } from './program';

// A closed pipe (`simdnet eval ... | head -1`) is a normal way to stop reading: exit quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Ctrl+C (SIGINT) or SIGTERM (kill, systemd, docker stop): stop after the current batch; `simdnet train` then saves the
// run to resume it. A second signal quits at once (nothing more is written).
const controller = new AbortController();
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    const name = signal === 'SIGINT' ? 'interrupted' : 'terminated';
    process.stderr.write(`\n${name}: stopping after the current batch (Ctrl+C again to quit now)\n`);
    controller.abort();
  });
}

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
