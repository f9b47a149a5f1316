// SPDX-License-Identifier: MIT
// `simdnet info`: versions, CPU, the backend (native addon or WebAssembly) and the kernels chosen at load
// (or why neither loaded).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import type { KernelInfo } from '../native';
import { EXIT_FAILURE, EXIT_OK, oneLine, println, type CliIO } from './io';

/** The package version, read from package.json next to lib/ (or dist/). */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The thread count in use, e.g. "threads 2" or "threads 1 (auto, up to 2)" when it follows the load. */
export function threadsLabel(info: { threads: number; threadsAuto?: boolean; defaultThreads: number }): string {
  return `threads ${info.threads}${info.threadsAuto ? ` (auto, up to ${info.defaultThreads})` : ''}`;
}

/** The backend that runs, e.g. "native addon" or "backend wasm (WebAssembly, threaded build)". */
export function backendLabel(info: Pick<KernelInfo, 'backend' | 'wasmBuild'>): string {
  if (info.backend !== 'wasm') return 'native addon';
  return `backend wasm (WebAssembly, ${info.wasmBuild === 'threads' ? 'threaded' : 'one-thread'} build)`;
}

/** Adds the `info` command to the program. */
export function registerInfo(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('info')
    .description('print versions, CPU and the native kernels in use')
    .action(async () => setExitCode(await runInfo(io)));
}

/** Runs `simdnet info`; exit code 1 when the native addon cannot be loaded (the reason is printed). */
export async function runInfo(io: CliIO): Promise<number> {
  const cpus = os.cpus();
  println(io.stdout, `simdnet ${packageVersion()}`);
  println(io.stdout, `node ${process.version} (${process.platform} ${process.arch})`);
  println(io.stdout, `cpus: ${cpus.length}${cpus[0]?.model ? ` x ${cpus[0].model.trim()}` : ''}`);
  let native;
  try {
    native = (await import('../native')).native;
  } catch (err) {
    println(io.stdout, 'native addon: not loaded');
    println(io.stderr, `error: ${oneLine((err as Error).message)}`);
    return EXIT_FAILURE;
  }
  const info = native.kernelInfo();
  // The WebAssembly build stands in when SIMDNET_BACKEND=wasm or the addon is missing (lib/backend/select.ts).
  println(
    io.stdout,
    `${backendLabel(info)}: isa ${info.isa}, openmp ${info.openmp ? 'yes' : 'no'}, ${threadsLabel(info)}`,
  );
  const names = Object.keys(info.kernels);
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) println(io.stdout, `  ${name.padEnd(width)}  ${info.kernels[name]}`);
  return EXIT_OK;
}
