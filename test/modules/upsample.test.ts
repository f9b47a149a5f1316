// SPDX-License-Identifier: MIT
// Upsample: finite-difference gradchecks for nearest and bilinear (both align_corners, sizes and scale factors,
// shrinking too), shapes, option errors. PyTorch's numbers are checked in layers-up-pytorch.test.ts, the kernels
// against a naive reference in native/tests/test_upsample.cc.
import { gradcheck } from '../../lib/gradcheck';
import { Upsample, type UpsampleOptions } from '../../lib/modules/upsample';
import { expectErrorNamed, randomTensor } from '../helpers';

describe('gradcheck', () => {
  test.each<[UpsampleOptions, number[]]>([
    [{ scaleFactor: 2 }, [2, 2, 3, 4]],
    [{ size: [5, 2] }, [1, 2, 3, 4]],
    [{ scaleFactor: 2, mode: 'bilinear' }, [2, 2, 3, 4]],
    [{ size: [5, 7], mode: 'bilinear', alignCorners: true }, [1, 2, 3, 4]],
    [{ scaleFactor: [1.7, 0.6], mode: 'bilinear' }, [1, 2, 4, 5]],
    [{ size: 1, mode: 'bilinear', alignCorners: true }, [1, 2, 3, 3]],
  ])('%j on %j', (options, shape) => {
    const r = gradcheck(new Upsample(options), randomTensor(shape, 5), { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(15);
  });
});

test('output shape: the size, or floor(input * scaleFactor)', () => {
  expect(new Upsample({ size: [7, 3] }).outputShape([2, 3, 4, 5])).toEqual([2, 3, 7, 3]);
  expect(new Upsample({ size: 4 }).outputShape([2, 3, 4, 5])).toEqual([2, 3, 4, 4]);
  expect(new Upsample({ scaleFactor: 1.7 }).outputShape([1, 1, 5, 3])).toEqual([1, 1, 8, 5]);
  expect(new Upsample({ scaleFactor: [0.5, 3] }).outputShape([1, 1, 5, 3])).toEqual([1, 1, 2, 9]);
  expectErrorNamed(
    () => new Upsample({ scaleFactor: 0.1 }).outputShape([1, 1, 5, 3]),
    'RangeError',
    /empty output 0x0/,
  );
  expect(() => new Upsample({ scaleFactor: 2 }).outputShape([1, 5, 3])).toThrow(RangeError);
  expect(new Upsample({ scaleFactor: 2, mode: 'bilinear' }).toString()).toBe(
    "Upsample(scaleFactor=[2, 2], mode='bilinear', alignCorners=false)",
  );
  expect(new Upsample({ size: [3, 4] }).toString()).toBe("Upsample(size=[3, 4], mode='nearest')");
});

test('bad options are TypeError or RangeError naming the option', () => {
  const make = (o: unknown) => () => new Upsample(o as never);
  expectErrorNamed(make({}), 'TypeError', /Upsample: size or scaleFactor is required/);
  expectErrorNamed(make({ size: 2, scaleFactor: 2 }), 'RangeError', /Upsample: give size or scaleFactor, not both/);
  expectErrorNamed(make({ size: 0 }), 'RangeError', /Upsample: size/);
  expectErrorNamed(make({ size: '2' }), 'TypeError', /Upsample: size/);
  expectErrorNamed(make({ scaleFactor: 0 }), 'RangeError', /Upsample: scaleFactor must be > 0/);
  expectErrorNamed(make({ scaleFactor: Infinity }), 'RangeError', /Upsample: scaleFactor must be finite/);
  expectErrorNamed(make({ scaleFactor: [2, 2, 2] }), 'RangeError', /Upsample: scaleFactor must have 2 entries/);
  expectErrorNamed(make({ scaleFactor: '2' }), 'TypeError', /Upsample: scaleFactor/);
  expectErrorNamed(make({ scaleFactor: 2, mode: 'bicubic' }), 'RangeError', /Upsample: mode must be one of/);
  expectErrorNamed(make({ scaleFactor: 2, mode: 1 }), 'TypeError', /Upsample: mode/);
  expectErrorNamed(
    make({ scaleFactor: 2, alignCorners: false }),
    'RangeError',
    /Upsample: alignCorners can only be set with mode 'bilinear'/,
  );
  expectErrorNamed(make({ scaleFactor: 2, mode: 'bilinear', alignCorners: 1 }), 'TypeError', /Upsample: alignCorners/);
  expectErrorNamed(make({ scaleFactor: 2, recomputeScaleFactor: true }), 'RangeError', /recomputeScaleFactor/);
  expectErrorNamed(make(undefined), 'TypeError', /Upsample/);
});
