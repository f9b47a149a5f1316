// SPDX-License-Identifier: MIT
// Tests of bench/busy-loop.ts: the contention case's busy loop is started, and killed by its PID when the work ends,
// throws, or a SIGINT/SIGTERM arrives (through a stand-in for process, so the test runner is not signalled).
import { EventEmitter } from 'events';
import { type BusyLoop, type SignalHost, startBusyLoop, withBusyLoop } from '../../bench/busy-loop';

/** Whether a process with this PID exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** An EventEmitter standing in for process: records exit codes instead of exiting. */
function fakeHost(): SignalHost & { emitter: EventEmitter; exits: number[] } {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return {
    emitter,
    exits,
    on: (e, l) => emitter.on(e, l),
    off: (e, l) => emitter.off(e, l),
    exit: (code) => exits.push(code),
  };
}

/** Every PID a test saw: killed after each test if still alive, so a broken withBusyLoop fails the test, not the machine. */
const seen: number[] = [];
afterEach(() => {
  for (const pid of seen.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

const listeners = (h: { emitter: EventEmitter }) =>
  ['SIGINT', 'SIGTERM', 'exit'].map((e) => h.emitter.listenerCount(e));

test('startBusyLoop runs a process until stop(), which kills it by PID; stop twice is harmless', async () => {
  const loop = startBusyLoop();
  seen.push(loop.pid);
  expect(loop.pid).toBeGreaterThan(0);
  expect(alive(loop.pid)).toBe(true);
  await loop.stop();
  expect(alive(loop.pid)).toBe(false);
  await loop.stop();
});

test('withBusyLoop: the loop runs during the work, is killed after it, and the listeners are removed', async () => {
  const host = fakeHost();
  let saw: BusyLoop | undefined;
  const value = await withBusyLoop(async (loop) => {
    saw = loop;
    seen.push(loop.pid);
    expect(alive(loop.pid)).toBe(true);
    expect(listeners(host)).toEqual([1, 1, 1]);
    return 42;
  }, host);
  expect(value).toBe(42);
  expect(alive(saw!.pid)).toBe(false);
  expect(listeners(host)).toEqual([0, 0, 0]);
  expect(host.exits).toEqual([]);
});

test('withBusyLoop: killed when the work throws, and the error reaches the caller', async () => {
  const host = fakeHost();
  let pid = 0;
  await expect(
    withBusyLoop(async (loop) => {
      pid = loop.pid;
      seen.push(pid);
      throw new Error('case failed');
    }, host),
  ).rejects.toThrow('case failed');
  expect(pid).toBeGreaterThan(0);
  expect(alive(pid)).toBe(false);
  expect(listeners(host)).toEqual([0, 0, 0]);
});

test.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('withBusyLoop: %s kills the loop and exits with %i', async (signal, code) => {
  const host = fakeHost();
  let finish: () => void = () => {};
  let loop: BusyLoop | undefined;
  const run = withBusyLoop(
    (l) =>
      new Promise<void>((resolve) => {
        loop = l;
        seen.push(l.pid);
        finish = resolve;
      }),
    host,
  );
  host.emitter.emit(signal, signal);
  await loop!.exited; // the signal handler killed it, while the work was still running
  expect(host.exits).toEqual([code]);
  finish();
  await run;
  expect(alive(loop!.pid)).toBe(false);
});

test("withBusyLoop: the process's 'exit' event kills the loop synchronously", async () => {
  const host = fakeHost();
  let loop: BusyLoop | undefined;
  let finish: () => void = () => {};
  const run = withBusyLoop(
    (l) =>
      new Promise<void>((resolve) => {
        loop = l;
        seen.push(l.pid);
        finish = resolve;
      }),
    host,
  );
  host.emitter.emit('exit', 0);
  await loop!.exited;
  expect(host.exits).toEqual([]);
  finish();
  await run;
});

test('a command that cannot start is an error, and nothing is left listening', async () => {
  const host = fakeHost();
  const missing: readonly [string, readonly string[]] = ['/nonexistent/simdnet-busy-loop', []];
  await expect(withBusyLoop(async () => 1, host, missing)).rejects.toThrow(/could not start the busy loop/);
  expect(listeners(host)).toEqual([0, 0, 0]);
});
