// SPDX-License-Identifier: MIT
// The contention section: simdnet training (LeNet batch 64, ResNet-20 batch 128) while one busy loop competes for the
// CPU, with the default thread count and with fixed counts; the loop is started here and killed by its PID at the end.
import { trainStep } from '../lib/bench/cases';
import { native } from '../lib/native';
import { Tensor } from '../lib/tensor/tensor';
import { withBusyLoop } from './busy-loop';
import { trainCase } from './cases';
import type { CnnModel } from './cnn-models';
import { sgd } from './cnn-models';
import type { ContentionResult } from './cnn-report';
import { batchOf, type BenchData, lenetReference } from './data';
import { CONTENTION_CASES, CONTENTION_THREADS } from './options';
import { simdnetTrainer } from './simdnet';
import type { TimingOptions } from './timing';

/**
 * Times each contention case with every thread setting of CONTENTION_THREADS (the default first, while nothing has
 * set a count yet), the busy loop running throughout; the thread count is restored afterwards.
 */
export async function contentionSection(
  lenet: BenchData,
  resnet: CnnModel,
  opt: TimingOptions,
  add: (r: ContentionResult) => void,
): Promise<{ busyPid: number }> {
  const info = native.kernelInfo();
  const before: number | 'auto' = info.threadsAuto ? 'auto' : info.threads; // the default: 'auto' unless the env fixed it
  let busyPid = 0;
  try {
    await withBusyLoop(async (loop) => {
      busyPid = loop.pid;
      console.error(`  busy loop: PID ${loop.pid}`);
      for (const c of CONTENTION_CASES) {
        for (const threads of CONTENTION_THREADS) {
          native.setNumThreads(threads ?? before);
          const system = threads === null ? 'simdnet default threads' : `simdnet --threads ${threads}`;
          const r =
            c.model === 'lenet'
              ? await trainCase(system, c.batch, lenetReference(lenet), opt, async () =>
                  simdnetTrainer(lenet.weights, batchOf(lenet, c.batch), lenet.targets.subarray(0, c.batch)),
                )
              : await trainCase(
                  system,
                  c.batch,
                  resnet.reference,
                  opt,
                  async () => {
                    const x = new Tensor(lenet.images.subarray(0, c.batch * 3072), [c.batch, 3, 32, 32]);
                    return { fn: trainStep(resnet.make(), x, lenet.targets.subarray(0, c.batch), sgd) };
                  },
                  'resnet20',
                );
          add({ ...r, model: c.model, threads, threadsUsed: native.kernelInfo().threads }); // with 'auto': the count at the end
        }
        native.setNumThreads(before);
      }
    });
  } finally {
    native.setNumThreads(before);
  }
  return { busyPid };
}
