// SPDX-License-Identifier: MIT
// Runs ONNX files in onnxruntime-node from tests, through test/io/ort-run.js in a child Node process: inside jest's
// sandbox the addon's output arrays come from another realm and onnxruntime-common's instanceof checks reject them.
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { Tensor } from '../../lib/tensor/tensor';

/** Result of test/io/ort-run.js. */
export interface OrtRun {
  inputNames: string[];
  outputNames: string[];
  outputs: { dims: number[]; data: Float32Array }[];
}

/** Runs `file` in onnxruntime-node (CPU, graph optimisation off) on each input. */
export function runOrt(file: string, inputs: Tensor[]): OrtRun {
  const request = {
    model: file,
    inputs: inputs.map((t) => ({
      dims: t.shape,
      data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'),
    })),
  };
  const r = spawnSync(process.execPath, [path.join(__dirname, 'ort-run.js')], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`ort-run.js failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as {
    inputNames: string[];
    outputNames: string[];
    outputs: { dims: number[]; data: string }[];
  };
  return {
    ...out,
    outputs: out.outputs.map(({ dims, data }) => {
      const bytes = Buffer.from(data, 'base64');
      return { dims, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
    }),
  };
}
