// SPDX-License-Identifier: MIT
// kernelInfo() (native/binding_runtime.cc) reports every op of the dispatch table: each export that computes something
// belongs to an op listed in kernelInfo().kernels, with the variant it runs for the current ISA.
import { addon, ISAS, restore, setIsa } from './isa';

/**
 * Exports that run no kernel of their own: the runtime controls, and the inference programs (they run the ops below)
 * with their weight snapshots; the serving decode's PNG rows and the graph's strided slice (plain C++ copies, no
 * dispatch table).
 */
const NOT_OPS = [
  'kernelInfo',
  'setIsa',
  'setNumThreads',
  'markStep',
  'scratchStats',
  'adviseHugePages',
  'runProgram',
  'runProgramAsync',
  'runProgramAsyncInPlace',
  'runProgramSnapshot',
  'createProgramSnapshot',
  'programSnapshotMatches',
  'releaseProgramSnapshot',
  'pngRowsToPlanes',
  'sliceForward',
  'sliceBackward',
];

const opExports = Object.keys(addon)
  .filter((name) => typeof addon[name] === 'function' && !NOT_OPS.includes(name))
  .sort();
/** The op an export belongs to: the kernelInfo key its name starts with (batchNormForwardTrain -> batchNorm). */
const opOf = (exportName: string, ops: string[]): string | undefined =>
  ops.find((op) => exportName.toLowerCase().startsWith(op.toLowerCase()));

afterAll(restore);

test('the addon has op exports to check (conv, pooling, linear, batch norm, losses...)', () => {
  expect(opExports.length).toBeGreaterThanOrEqual(16);
  expect(opExports).toEqual(expect.arrayContaining(['batchNormForwardTrain', 'windowMeanForward', 'conv2dForward']));
});

describe.each(ISAS)('isa %s', (isa) => {
  beforeAll(() => setIsa(isa));

  test('every op export belongs to an op kernelInfo lists, and every listed op has exports', () => {
    const ops = Object.keys(addon.kernelInfo().kernels);
    const unlisted = opExports.filter((name) => opOf(name, ops) === undefined);
    expect(unlisted).toEqual([]);
    const unused = ops.filter((op) => !opExports.some((name) => opOf(name, ops) === op));
    expect(unused).toEqual([]);
  });

  test('each op names the variant it runs: the ISA in use, "ref", or a shared "baseline" kernel (pooling, add)', () => {
    const info = addon.kernelInfo();
    expect(info.isa).toBe(isa);
    for (const [op, variant] of Object.entries(info.kernels)) {
      expect([op, [isa, 'ref', 'baseline'].includes(variant)]).toEqual([op, true]);
      if (isa === 'ref') expect([op, variant]).toEqual([op, 'ref']);
    }
    // The reference-only kernels say so; the SIMD tables run their own conv2d, linear and batch-norm kernels.
    expect(info.kernels.batchNorm).toBe(isa);
    expect(info.kernels.windowMean).toBe('ref');
    expect(info.kernels.conv2d).toBe(isa);
    expect(info.kernels.linear).toBe(isa);
  });
});
