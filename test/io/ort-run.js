// SPDX-License-Identifier: MIT
// Runs an ONNX file in onnxruntime-node in a plain Node process (outside jest's sandbox, whose realm breaks
// onnxruntime-common's instanceof Float32Array checks). stdin: {"model": file, "inputs": [{"dims", "data" (base64 float32 LE)}]};
// stdout: {"inputNames", "outputNames", "outputs": [{"dims", "data"}]}.
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const req = JSON.parse(text);
  const session = await ort.InferenceSession.create(req.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled',
  });
  const outputs = [];
  for (const { dims, data } of req.inputs) {
    const bytes = Buffer.from(data, 'base64');
    const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
    const y = result[session.outputNames[0]];
    outputs.push({
      dims: y.dims,
      data: Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength).toString('base64'),
    });
  }
  await session.release();
  process.stdout.write(JSON.stringify({ inputNames: session.inputNames, outputNames: session.outputNames, outputs }));
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
