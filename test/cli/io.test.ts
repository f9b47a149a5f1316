// SPDX-License-Identifier: MIT
// lib/cli/io.ts: the one mapping of error kinds to exit codes, and one-line error reports.
import { CommanderError } from 'commander';
import { exitCodeFor, reportError, UsageError } from '../../lib/cli/io';
import { DownloadError } from '../../lib/data/download';
import { FileFormatError, NonFiniteLossError } from '../../lib/errors';
import { capture } from './helpers';

test('exitCodeFor: 2 for the command line and the files it names, 130 for the abort, 1 for failures while running', () => {
  expect(exitCodeFor(new UsageError('--data: x does not exist'))).toBe(2);
  expect(exitCodeFor(new FileFormatError('h.json', 'not a training history'))).toBe(2);
  expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', "unknown option '--x'"))).toBe(2);
  expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
  expect(exitCodeFor(new DownloadError('http://127.0.0.1/x', 'HTTP 404'))).toBe(1);
  expect(exitCodeFor(new NonFiniteLossError('the loss is NaN'))).toBe(1);
  expect(exitCodeFor(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }))).toBe(1);
  expect(exitCodeFor('a string')).toBe(1);
  const controller = new AbortController();
  controller.abort();
  expect(exitCodeFor(controller.signal.reason, controller.signal)).toBe(130);
  expect(exitCodeFor(new Error('other'), controller.signal)).toBe(1);
});

test('reportError prints one line (the stack only with SIMDNET_DEBUG=1) and returns exitCodeFor', () => {
  const stderr = capture();
  const io = { stdout: capture(), stderr, env: {} };
  expect(reportError(new FileFormatError('w.safetensors', 'truncated\nat byte 8'), io)).toBe(2);
  expect(stderr.text()).toBe('error: w.safetensors: truncated at byte 8\n');
  const debug = capture();
  expect(reportError(new Error('boom'), { stdout: capture(), stderr: debug, env: { SIMDNET_DEBUG: '1' } })).toBe(1);
  expect(debug.text()).toMatch(/^error: boom\nError: boom\n\s+at /);
});
