// SPDX-License-Identifier: MIT
// Run inside a fresh project that installed the packed simdnet (test/package/pack-install.sh): trains
// LeNet for one epoch on generated, learnable 3x32x32 images (brightness grows with the class), then
// predicts held-out images. Prints one JSON line; exits 1 if training did not learn or predict misbehaves.
// Usage: node consumer-train.mjs [trainImages=1280]
import { Adam, DataLoader, LeNet, Tensor, TensorDataset, fit, manualSeed, native } from 'simdnet';

const trainCount = Number(process.argv[2] ?? 1280);
const testCount = 200;
const pixels = 3 * 32 * 32;
let state = 12345;
const noise = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) % 40;

function images(count) {
  const data = new Float32Array(count * pixels);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let k = 0; k < pixels; k++) data[i * pixels + k] = ((labels[i] * 22 + noise()) / 255 - 0.5) / 0.25;
  }
  return { data, labels };
}

manualSeed(0);
const train = images(trainCount);
const test = images(testCount);
const model = new LeNet();
const started = process.hrtime.bigint();
const history = await fit(model, {
  trainLoader: new DataLoader(new TensorDataset(train.data, train.labels, { sampleShape: [3, 32, 32] }), {
    batchSize: 32,
    shuffle: true,
  }),
  optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
  epochs: 1,
  progress: 'none',
});
const trainSeconds = Number(process.hrtime.bigint() - started) / 1e9;

model.eval();
const logits = model.predict(new Tensor(test.data, [testCount, 3, 32, 32]));
let correct = 0;
for (let i = 0; i < testCount; i++) {
  const row = logits.data.subarray(i * 10, i * 10 + 10);
  if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
}
const result = {
  isa: native.kernelInfo().isa,
  arch: process.arch,
  node: process.version,
  trainLoss: history.epochs[0].trainLoss,
  testAccuracy: correct / testCount,
  trainSeconds: Number(trainSeconds.toFixed(2)),
};
console.log(JSON.stringify(result));
const ok =
  logits.shape.join('x') === `${testCount}x10` &&
  Number.isFinite(result.trainLoss) &&
  result.trainLoss < Math.log(10) &&
  result.testAccuracy >= 0.3;
process.exit(ok ? 0 : 1);
