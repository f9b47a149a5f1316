// SPDX-License-Identifier: MIT
// The example page's script: fetches CIFAR-10 batch files, trains LeNet with Adam on a subset, and after
// each epoch draws the mean training loss and the test accuracy. Progress and results go to the page
// (#status, #log) and to window.simdnetRun, which test/browser/page.test.ts reads.
import {
  init,
  CIFAR10Bytes,
  DataLoader,
  LeNet,
  CrossEntropyLoss,
  Adam,
  evaluate,
  manualSeed,
} from '../../build-wasm/simdnet.browser.js';

const params = new URLSearchParams(location.search);
const option = (name, fallback) => params.get(name) ?? fallback;
const config = {
  train: option('train', 'data/data_batch_1.bin'),
  test: option('test', 'data/test_batch.bin'),
  trainSize: Number(option('trainSize', 5000)),
  testSize: Number(option('testSize', 1000)),
  epochs: Number(option('epochs', 5)),
  batchSize: Number(option('batchSize', 64)),
  lr: Number(option('lr', 1e-3)),
  seed: Number(option('seed', 0)),
  // The wasm build ("single" or "threads") and thread count; by default init() decides (threads when the page
  // is crossOriginIsolated, one per core).
  build: params.get('build') ?? undefined,
  threads: params.has('threads') ? Number(params.get('threads')) : undefined,
};

const run = { config, epochs: [], done: false, error: null, backend: null, wasmBuild: null, threads: null };
window.simdnetRun = run;
const status = document.getElementById('status');
const log = document.getElementById('log');
const say = (state, text) => {
  status.dataset.state = state;
  status.textContent = text;
};
const print = (line) => (log.textContent += `${line}\n`);

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** The first `count` records of a batch file (3073 bytes each). */
const firstRecords = (bytes, count) => new Uint8Array(bytes, 0, Math.min(count * 3073, bytes.byteLength));

/** A line chart of `values` (one per epoch) on a canvas, with its range printed in the corner. */
function plot(canvas, values, label, color) {
  const g = canvas.getContext('2d');
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  g.fillStyle = '#333';
  g.font = '13px sans-serif';
  g.fillText(label, 8, 16);
  if (values.length === 0) return;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const x = (i) => 30 + (i * (width - 50)) / Math.max(1, values.length - 1);
  const y = (v) => height - 20 - ((v - lo) / span) * (height - 50);
  g.strokeStyle = color;
  g.lineWidth = 2;
  g.beginPath();
  values.forEach((v, i) => (i === 0 ? g.moveTo(x(i), y(v)) : g.lineTo(x(i), y(v))));
  g.stroke();
  g.fillText(`${lo.toFixed(3)} .. ${hi.toFixed(3)}`, width - 120, 16);
}

async function main() {
  const info = await init(new URL('../../build-wasm/simdnet.wasm', import.meta.url), {
    build: config.build,
    threads: config.threads,
  });
  run.backend = `${info.backend} (${info.isa})`;
  run.wasmBuild = info.wasmBuild;
  run.threads = info.threads;
  const isolated = self.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated';
  print(`backend: ${run.backend}, ${info.wasmBuild} build, ${info.threads} thread(s) (page ${isolated})`);
  say('data', 'Fetching data…');
  const [trainBytes, testBytes] = await Promise.all([fetchBytes(config.train), fetchBytes(config.test)]);
  const train = new CIFAR10Bytes(firstRecords(trainBytes, config.trainSize));
  const test = new CIFAR10Bytes(firstRecords(testBytes, config.testSize));
  print(`train: ${train.length} images, test: ${test.length} images`);

  manualSeed(config.seed);
  const model = new LeNet();
  const lossFn = new CrossEntropyLoss();
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  const loader = new DataLoader(train, { batchSize: config.batchSize, shuffle: true, seed: config.seed });
  const testLoader = new DataLoader(test, { batchSize: 256 });

  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    say('training', `Epoch ${epoch} of ${config.epochs}…`);
    model.train();
    const started = performance.now();
    let lossSum = 0;
    let seen = 0;
    for (const batch of loader) {
      optimizer.zeroGrad();
      const logits = model.forward(batch.images);
      const loss = lossFn.forward(logits, batch.labels);
      model.backward(lossFn.backward());
      optimizer.step();
      lossSum += loss * batch.labels.length;
      seen += batch.labels.length;
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page repaint
    }
    const seconds = (performance.now() - started) / 1000;
    const result = await evaluate(model, testLoader);
    const record = { epoch, loss: lossSum / seen, accuracy: result.accuracy, imagesPerSecond: seen / seconds };
    run.epochs.push(record);
    print(
      `epoch ${epoch}: loss ${record.loss.toFixed(4)}, test accuracy ${(100 * record.accuracy).toFixed(2)}%, ` +
        `${record.imagesPerSecond.toFixed(0)} images/s`,
    );
    plot(document.getElementById('loss'), run.epochs.map((e) => e.loss), 'training loss', '#c0392b');
    plot(document.getElementById('accuracy'), run.epochs.map((e) => e.accuracy), 'test accuracy', '#2471a3');
  }
  run.done = true;
  const last = run.epochs[run.epochs.length - 1];
  say('done', `Done: test accuracy ${(100 * last.accuracy).toFixed(2)}%`);
}

main().catch((err) => {
  run.error = String(err && err.stack ? err.stack : err);
  say('error', `Error: ${err.message}`);
  print(run.error);
});
