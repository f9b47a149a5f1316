// SPDX-License-Identifier: MIT
// The contention case's competitor: one CPU-bound shell loop, started for the case and killed by its PID afterwards,
// also when the case throws or the bench gets SIGINT/SIGTERM. No timing here.
import { spawn } from 'child_process';

/** The competing process: a shell spinning on a builtin (no child of its own, so its PID is all there is to kill). */
export const BUSY_COMMAND: readonly [string, readonly string[]] = ['sh', ['-c', 'while :; do :; done']];

export interface BusyLoop {
  readonly pid: number;
  /** Resolves once the process has exited (and was reaped). */
  readonly exited: Promise<void>;
  /** Sends SIGKILL to the PID if the process still runs; safe to call more than once, and from an 'exit' handler. */
  kill(): void;
  /** kill(), then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts the busy loop. @throws Error when the process cannot be started. */
export function startBusyLoop(command: readonly [string, readonly string[]] = BUSY_COMMAND): BusyLoop {
  const child = spawn(command[0], [...command[1]], { stdio: 'ignore' });
  child.once('error', () => {}); // a failed spawn reports here too (after the check below has thrown)
  if (child.pid === undefined) throw new Error(`bench: could not start the busy loop (${command[0]})`);
  const pid = child.pid;
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      resolve();
    });
  });
  const kill = (): void => {
    if (done) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: it has already gone.
    }
  };
  return {
    pid,
    exited,
    kill,
    stop: async () => {
      kill();
      await exited;
    },
  };
}

/** Where withBusyLoop listens for signals and how it exits on one; replaceable for tests. */
export interface SignalHost {
  on(event: 'SIGINT' | 'SIGTERM' | 'exit', listener: (signal?: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM' | 'exit', listener: (signal?: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

const nodeProcess: SignalHost = {
  on: (e, l) => process.on(e, l),
  off: (e, l) => process.off(e, l),
  exit: (code) => process.exit(code),
};

/**
 * Runs `fn` while a busy loop competes for the CPU, then kills the loop by its PID: after `fn` returns or throws, on
 * SIGINT/SIGTERM (then exits with 130/143, as a shell reports them) and when the process exits.
 *
 * @example
 * const r = await withBusyLoop(async () => timeTraining());
 */
export async function withBusyLoop<T>(
  fn: (loop: BusyLoop) => Promise<T>,
  host: SignalHost = nodeProcess,
  command: readonly [string, readonly string[]] = BUSY_COMMAND,
): Promise<T> {
  const loop = startBusyLoop(command);
  const onSignal = (signal?: NodeJS.Signals): void => {
    loop.kill();
    host.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  const onExit = (): void => loop.kill();
  host.on('SIGINT', onSignal);
  host.on('SIGTERM', onSignal);
  host.on('exit', onExit);
  try {
    return await fn(loop);
  } finally {
    host.off('SIGINT', onSignal);
    host.off('SIGTERM', onSignal);
    host.off('exit', onExit);
    await loop.stop();
  }
}
