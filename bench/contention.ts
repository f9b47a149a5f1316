// SPDX-License-Identifier: MIT
// The contention section: simdnet training (LeNet batch 64, ResNet-20 batch 128) while one busy loop competes for the
// CPU, with the default thread count and with fixed counts, in rounds of rotated order; the loop is started here and
// killed by its PID at the end.
import { trainStep } from '../lib/bench/cases';
import { native } from '../lib/native';
import { Tensor } from '../lib/tensor/tensor';
import { withBusyLoop } from './busy-loop';
import { type CaseResult, trainCase } from './cases';
import type { CnnModel } from './cnn-models';
import { sgd } from './cnn-models';
import { type ContentionResult, medianRound } from './cnn-report';
import { batchOf, type BenchData, lenetReference } from './data';
import { CONTENTION_CASES, CONTENTION_THREADS, contentionOrder } from './options';
import { simdnetTrainer } from './simdnet';
import type { TimingOptions } from './timing';

/**
 * Times each contention case with every thread setting of CONTENTION_THREADS, the busy loop running throughout:
 * `rounds` rounds, each in the order contentionOrder(round) gives, and adds each setting's median round (its `rounds`
 * field lists every round's images/s). The default is 'auto' (unless the environment fixed a count), set afresh before
 * each of its rounds; the thread count is restored afterwards.
 */
export async function contentionSection(
  lenet: BenchData,
  resnet: CnnModel,
  opt: TimingOptions,
  rounds: number,
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
        const seen = new Map<number | null, ContentionResult[]>(CONTENTION_THREADS.map((t) => [t, []]));
        for (let round = 0; round < rounds; round++) {
          for (const threads of contentionOrder(round)) {
            native.setNumThreads(threads ?? before);
            const r = await timeCase(c, threads, lenet, resnet, opt);
            const threadsUsed = native.kernelInfo().threads; // with 'auto': the count at the end
            seen.get(threads)?.push({ ...r, model: c.model, threads, threadsUsed });
          }
        }
        native.setNumThreads(before);
        for (const threads of CONTENTION_THREADS) add(medianRound(seen.get(threads) ?? []));
      }
    });
  } finally {
    native.setNumThreads(before);
  }
  return { busyPid };
}

/** One timed training case of `c` under the thread setting in force. */
function timeCase(
  c: (typeof CONTENTION_CASES)[number],
  threads: number | null,
  lenet: BenchData,
  resnet: CnnModel,
  opt: TimingOptions,
): Promise<CaseResult> {
  const system = threads === null ? 'simdnet default threads' : `simdnet --threads ${threads}`;
  if (c.model === 'lenet')
    return trainCase(system, c.batch, lenetReference(lenet), opt, async () =>
      simdnetTrainer(lenet.weights, batchOf(lenet, c.batch), lenet.targets.subarray(0, c.batch)),
    );
  return trainCase(
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
}
