// SPDX-License-Identifier: MIT
// The graph ops against naive loops (add and mul broadcasting, concat, pad, slice, clamp, reshape), their gradients
// against finite differences inside small graphs, and their option checks.
import { gradcheck } from '../../lib/gradcheck';
import { GraphBuilder, type GraphValue } from '../../lib/modules/graph-builder';
import type { GraphOp, OpContext } from '../../lib/modules/graph-op';
import { Add, broadcastShape, Concat, Mul } from '../../lib/modules/graph-ops';
import { Clamp, Pad, Reshape, Slice } from '../../lib/modules/graph-ops-shape';
import { shapeSize } from '../../lib/tensor/shape';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const ctx: OpContext = { keep: true, scratch: (_role, shape) => Tensor.zeros(shape) };

/** Row-major multi-index of flat index i. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}
const ravel = (idx: readonly number[], shape: readonly number[]) => idx.reduce((a, v, d) => a * shape[d] + v, 0);

describe('add and mul broadcast like PyTorch', () => {
  test.each([
    ['same shape', [2, 3, 4], [2, 3, 4]],
    ['squeeze-and-excitation [N, C, 1, 1]', [2, 5, 3, 4], [2, 5, 1, 1]],
    ['both sides broadcast', [2, 1, 4], [2, 3, 1]],
    ['a row', [3, 1, 6], [3, 4, 6]],
  ])('%s: forward and backward match naive loops', (_name, sa, sb) => {
    const a = randomTensor(sa, 1);
    const b = randomTensor(sb, 2);
    const out = broadcastShape('t', sa, sb);
    const at = (t: Tensor, shape: number[], idx: number[]) =>
      t.data[
        ravel(
          idx.map((v, d) => (shape[d] === 1 ? 0 : v)),
          shape,
        )
      ];
    for (const [op, f] of [
      [new Add(), (x: number, y: number) => x + y],
      [new Mul(), (x: number, y: number) => x * y],
    ] as const) {
      const y = op.forward([a, b], ctx);
      expect(y.shape).toEqual(out);
      const want = Float32Array.from({ length: shapeSize(out) }, (_, i) => {
        const idx = unravel(i, out);
        return f(at(a, sa, idx), at(b, sb, idx));
      });
      expectAllClose(y.data, want, 0, 0, `${op.type} forward`);
      const g = randomTensor(out, 3);
      const [da, db] = op.backward(g, [true, true], ctx) as Tensor[];
      const wantA = new Float64Array(a.size);
      const wantB = new Float64Array(b.size);
      for (let i = 0; i < g.size; i++) {
        const idx = unravel(i, out);
        const ia = ravel(
          idx.map((v, d) => (sa[d] === 1 ? 0 : v)),
          sa,
        );
        const ib = ravel(
          idx.map((v, d) => (sb[d] === 1 ? 0 : v)),
          sb,
        );
        wantA[ia] += op.type === 'mul' ? g.data[i] * b.data[ib] : g.data[i];
        wantB[ib] += op.type === 'mul' ? g.data[i] * a.data[ia] : g.data[i];
      }
      expectAllClose(da.data, wantA, 1e-6, 1e-6, `${op.type} da`);
      expectAllClose(db.data, wantB, 1e-6, 1e-6, `${op.type} db`);
    }
  });

  test('shapes that do not broadcast, other ranks and other batches are RangeErrors', () => {
    expectErrorNamed(
      () =>
        new Add().outputShape([
          [2, 3],
          [2, 4],
        ]),
      'RangeError',
      /add: shapes \[2, 3\] and \[2, 4\] do not broadcast/,
    );
    expectErrorNamed(
      () =>
        new Mul().outputShape([
          [2, 3, 4],
          [2, 3],
        ]),
      'RangeError',
      /different ranks; reshape one first/,
    );
    expectErrorNamed(
      () =>
        new Add().outputShape([
          [2, 3],
          [1, 3],
        ]),
      'RangeError',
      /batch sizes 2 and 1 differ/,
    );
  });
});

describe('the shape ops against naive loops', () => {
  test('concat along channels and along a later dim', () => {
    const parts = [randomTensor([2, 1, 3], 1), randomTensor([2, 2, 3], 2), randomTensor([2, 3, 3], 3)];
    const y = new Concat().forward(parts, ctx);
    expect(y.shape).toEqual([2, 6, 3]);
    for (let n = 0; n < 2; n++) {
      let c0 = 0;
      for (const p of parts) {
        for (let c = 0; c < p.shape[1]; c++) for (let w = 0; w < 3; w++) expect(y.at(n, c0 + c, w)).toBe(p.at(n, c, w));
        c0 += p.shape[1];
      }
    }
    const last = new Concat({ dim: -1 }).forward([randomTensor([2, 3, 1], 4), randomTensor([2, 3, 2], 5)], ctx);
    expect(last.shape).toEqual([2, 3, 3]);
    const g = randomTensor([2, 6, 3], 6);
    const op = new Concat();
    op.forward(parts, ctx);
    const [d0, , d2] = op.backward(g, [true, false, true], ctx);
    expect(d0!.at(1, 0, 2)).toBe(g.at(1, 0, 2));
    expect(d2!.at(1, 2, 1)).toBe(g.at(1, 5, 1));
  });

  test('pad puts the input inside a frame of the value; backward takes the inside back', () => {
    const x = randomTensor([2, 2, 3, 2], 1);
    const op = new Pad({
      pads: [
        [1, 2],
        [0, 1],
        [2, 0],
      ],
      value: -3,
    });
    const y = op.forward([x], ctx);
    expect(y.shape).toEqual([2, 5, 4, 4]);
    for (let i = 0; i < y.size; i++) {
      const [n, c, h, w] = unravel(i, y.shape);
      const inside = c >= 1 && c < 3 && h < 3 && w >= 2;
      expect(y.data[i]).toBe(inside ? x.at(n, c - 1, h, w - 2) : -3);
    }
    const g = randomTensor([...y.shape], 2);
    const dx = op.backward(g, [true], ctx)[0]!;
    for (let i = 0; i < dx.size; i++) {
      const [n, c, h, w] = unravel(i, x.shape);
      expect(dx.data[i]).toBe(g.at(n, c + 1, h, w + 2));
    }
  });

  test('pad of channels only (runs of whole samples, copied by set) and of the batch-free last dim', () => {
    const x = randomTensor([2, 3, 5, 6], 3);
    const op = new Pad({
      pads: [
        [2, 1],
        [0, 0],
        [0, 0],
      ],
    });
    const y = op.forward([x], ctx);
    expect(y.shape).toEqual([2, 6, 5, 6]);
    for (let i = 0; i < y.size; i++) {
      const [n, c, h, w] = unravel(i, y.shape);
      expect(y.data[i]).toBe(c >= 2 && c < 5 ? x.at(n, c - 2, h, w) : 0);
    }
    const g = randomTensor([...y.shape], 4);
    const dx = op.backward(g, [true], ctx)[0]!;
    for (let i = 0; i < dx.size; i++) {
      const [n, c, h, w] = unravel(i, x.shape);
      expect(dx.data[i]).toBe(g.at(n, c + 2, h, w));
    }
    const none = new Pad({ pads: [[0, 0]] }).forward([randomTensor([2, 70], 5)], ctx);
    expect(none.shape).toEqual([2, 70]);
  });

  test('slice of the last two dims (ResNet shortcut) and of a 2-dim input, with gradients', () => {
    const x = randomTensor([2, 3, 8, 8], 1);
    const op = new Slice({ axes: [2, 3], steps: [2, 2] });
    const y = op.forward([x], ctx);
    expect(y.shape).toEqual([2, 3, 4, 4]);
    for (let i = 0; i < y.size; i++) {
      const [n, c, h, w] = unravel(i, y.shape);
      expect(y.data[i]).toBe(x.at(n, c, 2 * h, 2 * w));
    }
    const g = randomTensor([...y.shape], 2);
    const dx = op.backward(g, [true], ctx)[0]!;
    for (let i = 0; i < dx.size; i++) {
      const [n, c, h, w] = unravel(i, x.shape);
      expect(dx.data[i]).toBe(h % 2 === 0 && w % 2 === 0 ? g.at(n, c, h / 2, w / 2) : 0);
    }
    const flat = randomTensor([3, 7], 3);
    const op2 = new Slice({ axes: [1], starts: [1], steps: [3] });
    const y2 = op2.forward([flat], ctx);
    expect(y2.shape).toEqual([3, 2]);
    for (let i = 0; i < y2.size; i++) expect(y2.data[i]).toBe(flat.at(Math.floor(i / 2), 1 + 3 * (i % 2)));
    const dx2 = op2.backward(y2, [true], ctx)[0]!;
    for (let i = 0; i < dx2.size; i++) {
      const w = i % 7;
      expect(dx2.data[i]).toBe(w === 1 || w === 4 ? flat.data[i] : 0);
    }
  });

  test('slice takes start, step and Python-style ends; backward scatters into zeros', () => {
    const x = randomTensor([2, 3, 7, 6], 1);
    const op = new Slice({ axes: [2, -1, 1], starts: [1, -5, 0], ends: [null, 100, 2], steps: [2, 3, 1] });
    const y = op.forward([x], ctx);
    expect(y.shape).toEqual([2, 2, 3, 2]); // h 1, 3, 5; w 1, 4; c 0, 1
    for (let i = 0; i < y.size; i++) {
      const [n, c, h, w] = unravel(i, y.shape);
      expect(y.data[i]).toBe(x.at(n, c, 1 + 2 * h, 1 + 3 * w));
    }
    const dx = op.backward(randomTensor([...y.shape], 2), [true], ctx)[0]!;
    expect(dx.data.filter((v) => v !== 0).length).toBe(y.size);
    expectErrorNamed(
      () => new Slice({ axes: [2], starts: [9] }).outputShape([[1, 2, 5]]),
      'RangeError',
      /axis 2 of \[1, 2, 5\] keeps no values/,
    );
    expectErrorNamed(
      () => new Slice({ axes: [0] }).outputShape([[1, 2]]),
      'RangeError',
      /axis 0 is out of range .* \(or is the batch\)/,
    );
  });

  test('clamp bounds values (NaN stays NaN); its gradient passes inside the bounds, ends included', () => {
    const x = Tensor.fromArray([-2, 0, 3, 6, 7, NaN], [1, 6]);
    const op = new Clamp({ min: 0, max: 6 });
    expect(Array.from(op.forward([x], ctx).data)).toEqual([0, 0, 3, 6, 6, NaN]);
    expect(Array.from(op.backward(Tensor.fromArray([1, 1, 1, 1, 1, 1], [1, 6]), [true], ctx)[0]!.data)).toEqual([
      0, 1, 1, 1, 0, 0,
    ]);
    expect(Array.from(new Clamp({ max: 1 }).forward([x], ctx).data.slice(0, 3))).toEqual([-2, 0, 1]);
  });

  test('reshape keeps the batch and infers one -1', () => {
    const op = new Reshape({ shape: [-1, 1, 1] });
    const x = randomTensor([4, 6], 1);
    const y = op.forward([x], ctx);
    expect(y.shape).toEqual([4, 6, 1, 1]);
    expect(y.data).toBe(x.data); // a view
    expect(op.backward(Tensor.zeros([4, 6, 1, 1]), [true])[0]!.shape).toEqual([4, 6]);
    expect(op.outputShape([[4, 5, 2]])).toEqual([4, 10, 1, 1]);
    expectErrorNamed(
      () => new Reshape({ shape: [3, -1] }).outputShape([[4, 5, 2]]),
      'RangeError',
      /cannot view \[4, 5, 2\] as \[batch, 3, -1\]/,
    );
  });
});

describe('gradients inside graphs pass gradcheck', () => {
  const cases: [string, number[], (g: GraphBuilder, x: GraphValue) => GraphValue][] = [
    [
      'x * sigmoid(mean) (squeeze-and-excitation)',
      [2, 3, 2, 2],
      (g, x) => g.mul(x, g.sigmoid(g.reshape(g.flatten(g.slice(x, { axes: [2, 3], ends: [1, 1] })), [3, 1, 1]))),
    ],
    [
      'concat of x and tanh-free pieces',
      [2, 2, 3],
      (g, x) => g.concat([x, g.mul(x, x), g.slice(x, { axes: [1], starts: [1] })], 1),
    ],
    [
      'pad then slice then add broadcast',
      [2, 2, 4],
      (g, x) =>
        g.add(
          g.slice(
            g.pad(x, [
              [1, 1],
              [2, 0],
            ]),
            { axes: [1, 2], steps: [2, 3] },
          ),
          g.slice(x, { axes: [1, 2], ends: [1, 1] }),
        ),
    ],
    ['clamp away from its bounds', [2, 5], (g, x) => g.clamp(g.mul(x, x), -5, 5)],
  ];
  test.each(cases)('%s', (_name, shape, body) => {
    const g = new GraphBuilder();
    const graph = g.build(body(g, g.input()));
    const r = gradcheck(graph, randomTensor(shape, 7), { maxPerTensor: 64 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(5);
  });
});

describe('op options are checked', () => {
  test.each<[string, () => GraphOp, 'TypeError' | 'RangeError', RegExp]>([
    ['concat along the batch', () => new Concat({ dim: 0 }), 'RangeError', /concat: dim 0 would join along the batch/],
    ['concat unknown option', () => new Concat({ axis: 1 } as never), 'RangeError', /concat: unknown option 'axis'/],
    ['reshape two -1', () => new Reshape({ shape: [-1, -1] }), 'RangeError', /at most one -1/],
    ['reshape 0', () => new Reshape({ shape: [0] }), 'RangeError', /entries must be >= 1 or -1/],
    ['pad negative', () => new Pad({ pads: [[-1, 0]] }), 'RangeError', /pads\[0\]\[0\] must be an integer >= 0/],
    [
      'pad not pairs',
      () => new Pad({ pads: [[1, 2, 3]] as never }),
      'RangeError',
      /pads\[0\] must be a \[before, after\] pair/,
    ],
    ['pad value', () => new Pad({ pads: [], value: NaN }), 'TypeError', /value must be a finite number/],
    ['slice step 0', () => new Slice({ axes: [1], steps: [0] }), 'RangeError', /steps\[0\] must be an integer >= 1/],
    ['slice repeated axes', () => new Slice({ axes: [1, 1] }), 'RangeError', /axes must not repeat/],
    ['slice lengths', () => new Slice({ axes: [1, 2], starts: [0] }), 'RangeError', /starts has 1 entries, axes 2/],
    ['clamp no bounds', () => new Clamp({}), 'RangeError', /give min, max or both/],
    ['clamp min above max', () => new Clamp({ min: 2, max: 1 }), 'RangeError', /min 2 is above max 1/],
    ['clamp a string', () => new Clamp({ min: '0' as never }), 'TypeError', /min must be a number or null/],
  ])('%s', (_name, make, cls, message) => {
    expectErrorNamed(make, cls, message);
  });

  test('a pad with the wrong number of pairs names both counts', () => {
    expectErrorNamed(
      () => new Pad({ pads: [[1, 1]] }).outputShape([[1, 2, 3]]),
      'RangeError',
      /pads has 1 pairs, the input \[1, 2, 3\] has 2 dims after the batch/,
    );
  });
});
