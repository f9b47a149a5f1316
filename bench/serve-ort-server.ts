// SPDX-License-Identifier: MIT
// The onnxruntime-node counterpart of `simdnet serve` for the HTTP serving bench: the same fastify routes and PNG
// preprocessing (lib/data/image.ts, CIFAR-10 normalisation), one session.run per request (onnxruntime batches nothing
// by itself). Run as a child process: prints "listening on http://127.0.0.1:PORT", stops on SIGTERM.
import './setup';
import type { AddressInfo } from 'net';
import Fastify from 'fastify';
import { decodePng, preprocessImage } from '../lib/data/image';
import { datasetPreprocessing, topK } from '../lib/cli/predict';
import { ortSession } from './ort';

async function main(): Promise<void> {
  const threads = Number(process.argv[2] ?? 2);
  const { ort, session } = await ortSession(threads);
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  const prep = datasetPreprocessing('cifar10', 3, 10);
  const app = Fastify({ bodyLimit: 4 * 2 ** 20, logger: false });
  app.addContentTypeParser('image/png', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/predict', async (req, reply) => {
    let input: Float32Array;
    try {
      const image = decodePng(req.body as Buffer, 'request body');
      input = preprocessImage(image, { channels: 3, height: 32, width: 32, mean: prep.mean, std: prep.std });
    } catch (err) {
      return reply.code(400).send({ error: `undecodable image: ${(err as Error).message}` });
    }
    const out = await session.run({ [inName]: new ort.Tensor('float32', input, [1, 3, 32, 32]) });
    const logits = out[outName].data as Float32Array;
    return {
      top: topK(logits, 5).map(({ index, probability }) => ({ label: prep.classes?.[index], index, probability })),
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`listening on http://127.0.0.1:${(app.server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => void app.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
