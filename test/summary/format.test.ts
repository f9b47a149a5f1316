// SPDX-License-Identifier: MIT
// Tests of formatSummary() and its number helpers: two convolutions as a table, totals, the FLOPs line and footnotes.
import { Conv2d } from '../../lib/modules/conv2d';
import { Linear } from '../../lib/modules/linear';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { bytes, count, formatSummary, percent } from '../../lib/summary/format';
import { summary } from '../../lib/summary/summary';
import { Tensor } from '../../lib/tensor/tensor';

const block = new Sequential({
  conv1: new Conv2d({ inChannels: 128, outChannels: 256, kernelSize: 3, stride: 2, padding: 1, bias: false }),
  conv2: new Conv2d({ inChannels: 256, outChannels: 512, kernelSize: 3, padding: 1, bias: false }),
});

test('section 1 as a table: one row per layer, then the totals', () => {
  const lines = formatSummary(summary(block, [1, 128, 64, 64])).split('\n');
  expect(lines[0].split(/\s{2,}/)).toEqual([
    'Layer (type)',
    'Output shape',
    'Params',
    'MACs',
    'Activations',
    'Memory',
    'Change',
  ]);
  expect(lines[1]).toMatch(/^=+$/);
  expect(lines[2].split(/\s{2,}/)).toEqual(['input', '[1, 128, 64, 64]', '524,288', '2.00 MiB']);
  expect(lines[3].split(/\s{2,}/)).toEqual([
    'conv1 (Conv2d)',
    '[1, 256, 32, 32]',
    '294,912',
    '301,989,888',
    '262,144',
    '1.00 MiB',
    '-50%',
  ]);
  expect(lines[4].split(/\s{2,}/)).toEqual([
    'conv2 (Conv2d)',
    '[1, 512, 32, 32]',
    '1,179,648',
    '1,207,959,552',
    '524,288',
    '2.00 MiB',
    '+100%',
  ]);
  expect(lines[5]).toBe(lines[1]);
  expect(lines.slice(6)).toEqual([
    'Total params: 1,474,560 (trainable)',
    'Total MACs: 1,509,949,440 (multiply-adds for a batch of 1 image)',
    'FLOPs = 2 x MACs: 3,019,898,880',
    'Input activations: 524,288 values (2.00 MiB)',
    'Output activations: 524,288 values (2.00 MiB), 0% change from the input',
    'Layer outputs in total: 786,432 values (3.00 MiB at 4 bytes per value)',
    'MACs: multiply-adds of Conv2d; bias adds and the other layers (pooling, activations, reshapes) count 0.',
  ]);
  // Columns line up: every row is as wide as the rule or narrower.
  expect(Math.max(...lines.slice(0, 6).map((l) => l.length))).toBe(lines[1].length);
});

test('the MACs footnote names the layers whose MACs the table shows, batch norm included', () => {
  const footnote = (m: Module, shape: number[]) => {
    const lines = formatSummary(summary(m, shape)).split('\n');
    return lines.find((l) => l.startsWith('MACs: '));
  };
  expect(footnote(new LeNetBN(), [1, 3, 32, 32])).toBe(
    'MACs: multiply-adds of Conv2d, BatchNorm2d and Linear (batch norm: one per value, x * scale + shift); bias adds and the other layers (pooling, activations, reshapes) count 0.',
  );
  const lines = formatSummary(summary(new LeNetBN(), [1, 3, 32, 32])).split('\n');
  expect(lines.find((l) => l.startsWith('bn1 '))?.split(/\s{2,}/)[3]).toBe('4,704'); // a BatchNorm row with MACs
  expect(footnote(new Sequential(new ReLU()), [1, 4])).toBe(
    'MACs: no layer here multiplies and adds (pooling, activations and reshapes count 0).',
  );
});

test('a batch, a single-layer model and a layer without a MAC rule', () => {
  class Identity extends Module {
    outputShape(s: readonly number[]): number[] {
      return [...s];
    }
    override forward(x: Tensor): Tensor {
      return x;
    }
    override backward(d: Tensor): Tensor {
      return d;
    }
  }
  const text = formatSummary(
    summary(new Sequential(new Linear({ inFeatures: 3, outFeatures: 2 }), new Identity()), [8, 3]),
  );
  expect(text).toContain('Total MACs: 48 (multiply-adds for a batch of 8)');
  expect(text).toMatch(/^1 \(Identity\)\s+\[8, 2\]\s+0\s+0\*/m);
  expect(text.split('\n').pop()).toMatch(/^\* layer without a MAC rule/);
  const single = formatSummary(summary(new Linear({ inFeatures: 3, outFeatures: 2 }), [1, 3]));
  expect(single.split('\n')[3]).toMatch(/^Linear\s+\[1, 2\]\s+8\s+6\s+2\s+8 B\s+-33.3%$/);
});

test('count, percent and bytes', () => {
  expect(count(1_509_949_440)).toBe('1,509,949,440');
  expect(count(0)).toBe('0');
  expect([
    percent(-0.5),
    percent(1),
    percent(0),
    percent(-0),
    percent(0.53125),
    percent(1e-12),
    percent(-0.99674),
  ]).toEqual(['-50%', '+100%', '0%', '0%', '+53.1%', '0%', '-99.7%']);
  expect([bytes(40), bytes(1023), bytes(1024), bytes(2_097_152), bytes(3 * 2 ** 30)]).toEqual([
    '40 B',
    '1023 B',
    '1.00 KiB',
    '2.00 MiB',
    '3.00 GiB',
  ]);
});
