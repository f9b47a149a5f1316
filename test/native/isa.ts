// SPDX-License-Identifier: MIT
// The addon typed loosely enough for exports lib/native.ts may not declare yet, and a describe block per supported ISA.
import { native } from '../../lib/native';

type Fn = (...args: never[]) => unknown;
export interface AddonInfo {
  backend?: string;
  isa: string;
  kernels: Record<string, string>;
  openmp: boolean;
  supportedIsas?: string[];
  threads?: number;
  threadsAuto?: boolean;
  defaultThreads?: number;
}

/** The raw addon: the typed exports of lib/native.ts plus setIsa / setNumThreads and conv2dForward's fuseRelu flag. */
export const addon = native as unknown as Record<string, Fn> & {
  kernelInfo(): AddonInfo;
  setIsa?(name: unknown): string;
  setNumThreads?(n: unknown): void;
  conv2dForward(...args: unknown[]): void;
};

const info = addon.kernelInfo();
/** Every ISA this build has and this CPU runs ("ref" first); only the current one when the build cannot switch. */
export const ISAS: string[] = typeof addon.setIsa === 'function' ? (info.supportedIsas ?? [info.isa]) : [info.isa];
export const INITIAL_ISA = info.isa;
/** The thread setting at load: "auto" (follows the load) unless SIMDNET_NUM_THREADS fixed it. */
export const INITIAL_THREADS: number | 'auto' = info.threadsAuto ? 'auto' : (info.threads ?? 1);

export function setIsa(isa: string): void {
  if (typeof addon.setIsa === 'function') addon.setIsa(isa);
}

export function setThreads(n: number | 'auto'): void {
  if (typeof addon.setNumThreads === 'function') addon.setNumThreads(n);
}

/** Puts back the ISA and thread count the process started with (the addon's state outlives one test file). */
export function restore(): void {
  setIsa(INITIAL_ISA);
  setThreads(INITIAL_THREADS);
}

/** Runs `body` inside one describe per supported ISA, with that ISA selected while its tests run. */
export function describeEachIsa(body: (isa: string) => void): void {
  describe.each(ISAS)('isa %s', (isa) => {
    beforeAll(() => setIsa(isa));
    afterAll(restore);
    body(isa);
  });
}
