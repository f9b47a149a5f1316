// SPDX-License-Identifier: MIT
// createPredictor() (lib/serve/predictor.ts) apart from HTTP: topClasses equals topK with labels bit for bit; images
// decoded on the calling thread share one input array and still each get a lone predict()'s answer, also when they
// arrive together; a model whose own predictAsync() keeps its input gets an array per request; errors reject.
import { topK } from '../../lib/cli/predict';
import type { LeNet } from '../../lib/modules/lenet';
import { Module } from '../../lib/modules/module';
import { createPredictor, topClasses, type Predictor } from '../../lib/serve/predictor';
import { imageInput } from '../../lib/serve/request-input';
import { Tensor } from '../../lib/tensor/tensor';
import { expectedTop, lenetClassifier, pngImage, prep } from './helpers';

const labels = Array.from({ length: 10 }, (_, i) => `c${i}`);
const withLabels = (logits: ArrayLike<number>, k: number) =>
  topK(logits, k).map(({ index, probability }) => ({ label: labels[index], index, probability }));

describe('topClasses', () => {
  test('equals topK on random logits, ties, near ties and every k (bit for bit)', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 20 - 10;
    const cases: number[][] = [
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [1, 3, 3, 1, 2, 3, 0, 0, -1, 3],
      [5, 5 + 1e-15, 5 - 1e-15, 5, 4, 3, 2, 1, 0, 5],
      [-1000, 0, -1000, 1000, 999.9999999, -50, 3, 3, 3, 700],
      [-1e30, -1e30, 0, -1e30, 1e-30, -1e-30, 0, 0, 1, -745],
    ];
    for (let c = 0; c < 200; c++)
      cases.push(Array.from({ length: 10 }, () => Math.round(rand() * (c % 3 ? 1e6 : 2)) / (c % 3 ? 1e6 : 1)));
    for (const logits of cases) {
      for (const x of [logits, Float32Array.from(logits)]) {
        for (let k = 1; k <= 10; k++) expect([x, k, topClasses(x, k, labels)]).toEqual([x, k, withLabels(x, k)]);
      }
    }
  });

  test('logits with NaN or infinities give what topK gives', () => {
    for (const logits of [
      [NaN, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [Infinity, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [-Infinity, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      Array(10).fill(-Infinity),
      [Infinity, Infinity, 0, 0, 0, 0, 0, 0, 0, -Infinity],
    ]) {
      expect(topClasses(logits, 10, labels)).toEqual(withLabels(logits, 10));
    }
  });
});

function predictorFor(model: Module): Predictor {
  const classifier = { ...lenetClassifier(), model };
  return createPredictor({
    classifier,
    preprocessing: prep,
    maxPixels: 1 << 24,
    defaultTop: 3,
    pool: null,
    inlinePixels: 0,
    hold: null,
  });
}

test('PNGs decoded on this thread in one turn each get the answer of a lone predict() (the shared input array)', async () => {
  const classifier = lenetClassifier();
  const predict = predictorFor(classifier.model);
  const bodies = Array.from({ length: 40 }, (_, i) => pngImage(32, 32, i));
  const answers = await Promise.all(bodies.map((b) => predict('image/png', b, {})));
  bodies.forEach((b, i) => {
    const input = imageInput(
      b,
      'image/png',
      { channels: 3, height: 32, width: 32, mean: prep.mean, std: prep.std },
      1 << 24,
    );
    expect(answers[i]).toEqual(expectedTop(classifier.model as LeNet, input, 3));
  });
});

test('a model whose predictAsync() reads its input later gets a new input array per request', async () => {
  const seen: Float32Array[] = [];
  class Later extends Module {
    override forward(x: Tensor): Tensor {
      return x;
    }
    override outputShape(): number[] {
      return [1, 10];
    }
    override async predictAsync(input: Tensor): Promise<Tensor> {
      await new Promise((r) => setImmediate(r));
      seen.push(input.data.slice(0, 10));
      return new Tensor(input.data.slice(0, 10), [1, 10]);
    }
  }
  const predict = predictorFor(new Later());
  const bodies = Array.from({ length: 4 }, (_, i) => pngImage(32, 32, 100 + i));
  await Promise.all(bodies.map((b) => predict('image/png', b, {})));
  const own = bodies.map((b) =>
    imageInput(b, 'image/png', { channels: 3, height: 32, width: 32, mean: prep.mean, std: prep.std }, 1 << 24).slice(
      0,
      10,
    ),
  );
  expect(seen).toEqual(own);
});

test('bad requests reject (never throw): ?top, an undecodable image, a JSON body of the wrong shape', async () => {
  const predict = predictorFor(lenetClassifier().model);
  const calls = [
    () => predict('image/png', pngImage(32, 32), { top: '0' }),
    () => predict('image/png', Buffer.from('not a png'), {}),
    () => predict('application/json', { input: [1], shape: [1] }, {}),
  ];
  for (const call of calls) {
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = call())).not.toThrow();
    await expect(promise).rejects.toMatchObject({ name: 'RequestError', statusCode: 400 });
  }
});
