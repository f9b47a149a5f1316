// SPDX-License-Identifier: MIT
// The graph ops add, mul and concat: spec types, ONNX Add / Mul / Concat both ways and the program's binary and concat
// ops (values read from slots). The maths is lib/modules/graph-ops.ts.
import { list, q, type Converter } from '../io/onnx-import-proto';
import { Add, Concat, Mul } from '../modules/graph-ops';
import type { OpOperands } from '../modules/program';
import { BINARY, MAX_RANK, OP, type ProgramEmitter } from '../modules/program-code';
import { opKind } from './kind';

/** A node of two computed inputs (a constant operand is not a graph value: simdnet imports those only as a bias). */
function binaryFromOnnx(make: () => Add | Mul): Converter {
  return (ctx, inShapes) => {
    ctx.allowAttributes([]);
    if (inShapes.length !== 2) {
      throw ctx.fail(
        inShapes.length < 2
          ? `${ctx.opType} of a computed value and a constant is not supported (only a Linear's bias after MatMul)`
          : `needs 2 inputs, got ${inShapes.length}`,
      );
    }
    return make();
  };
}

/**
 * kOpBinary: y = x (op) slot with broadcasting, for equal-rank sample shapes; `fuse` lets a ReLU after it run in the
 * op. Which input is the current value decides which is x.
 */
function binaryProgram(code: number, fuse: boolean, p: ProgramEmitter & OpOperands): boolean {
  const rank = p.outShape.length - 1;
  if (rank < 1 || rank > MAX_RANK) return false;
  const first = p.operand(0);
  const second = p.operand(1);
  // Exactly one operand is the current value (the compiler loads one when neither is).
  const [xShape, slot, slotShape] =
    first === -1 ? [p.inShapes[0], second, p.inShapes[1]] : [p.inShapes[1], first, p.inShapes[0]];
  if (slot < 0) return false;
  p.emit(OP.binary, code, fuse && p.fuseRelu() ? 1 : 0, slot, rank, ...p.outShape.slice(1), ...xShape.slice(1));
  p.emit(...slotShape.slice(1));
  return true;
}

export const addKind = opKind<Add>({
  op: Add,
  type: 'add',
  options: [],
  make: () => new Add(),
  toOnnx: (_op, ctx) => ctx.node('Add', [...ctx.inputs]),
  fromOnnx: { Add: binaryFromOnnx(() => new Add()), Sum: binaryFromOnnx(() => new Add()) },
  program: (_op, p) => binaryProgram(BINARY.add, true, p),
});

export const mulKind = opKind<Mul>({
  op: Mul,
  type: 'mul',
  options: [],
  make: () => new Mul(),
  toOnnx: (_op, ctx) => ctx.node('Mul', [...ctx.inputs]),
  fromOnnx: { Mul: binaryFromOnnx(() => new Mul()) },
  program: (_op, p) => binaryProgram(BINARY.mul, false, p),
});

export const concatKind = opKind<Concat>({
  op: Concat,
  type: 'concat',
  options: ['dim'],
  make: (o) => new Concat(o as { dim?: number }),
  toOnnx: (op, ctx) => ctx.node('Concat', [...ctx.inputs], { axis: op.axis(ctx.inShape.length) }),
  fromOnnx: {
    Concat: (ctx, inShapes) => {
      ctx.allowAttributes(['axis']);
      const names = (ctx.node.input ?? []).filter((n) => n);
      if (inShapes.length !== names.length)
        throw ctx.fail(`joins constants and computed values ${list(names.map(q))}; only computed values are supported`);
      const axis = ctx.int('axis', 1);
      const rank = ctx.inShape.length;
      if ((axis < 0 ? axis + rank : axis) === 0) throw ctx.fail('axis 0 would join along the batch');
      return new Concat({ dim: axis });
    },
  },
  program: (op, p) => {
    const { outer, inner } = op.blocks(p.inShapes);
    p.emit(OP.concat, p.inShapes.length, outer);
    for (let j = 0; j < p.inShapes.length; j++) p.emit(p.operand(j), inner[j]);
    return true;
  },
});
