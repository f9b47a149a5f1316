// SPDX-License-Identifier: MIT
// A strict TypeScript client of the published package (test/package/pack-install.sh compiles it with
// skipLibCheck: false under TypeScript 5.9 and 7): every .d.ts the public API reaches must compile
// without third-party types that the client does not have.
import * as simdnet from 'simdnet';
import {
  Adam,
  CrossEntropyLoss,
  DataLoader,
  LeNet,
  Sequential,
  Conv2d,
  ReLU,
  Flatten,
  Linear,
  Tensor,
  TensorDataset,
  buildOnnxModel,
  fit,
  native,
  summary,
  type Dataset,
  type EpochRecord,
  type History,
  type KernelInfo,
  type OnnxModel,
} from 'simdnet';

const model: LeNet = new LeNet();
const custom = new Sequential(
  new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3 }),
  new ReLU(),
  new Flatten(),
  new Linear({ inFeatures: 4 * 30 * 30, outFeatures: 10 }),
);
const x = new Tensor(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]);
const y: Tensor = custom.forward(x);
const loss: number = new CrossEntropyLoss().forward(y, Int32Array.from([1, 2]));
const info: KernelInfo = native.kernelInfo();
const onnx: OnnxModel = buildOnnxModel(model, [1, 3, 32, 32]);
const ops: string[] = onnx.graph.node.map((n) => n.opType);
const data: Dataset = new TensorDataset(x, Int32Array.from([0, 1]));
const loader = new DataLoader(data, { batchSize: 2 });

export async function run(): Promise<number> {
  const history: History = await fit(model, {
    trainLoader: loader,
    optimizer: new Adam(model.parameters()),
    epochs: 1,
  });
  const last: EpochRecord | undefined = history.epochs.at(-1);
  return (last?.trainLoss ?? 0) + loss + info.threads + ops.length + summary(model, [3, 32, 32]).totalParams;
}
export const names: string[] = Object.keys(simdnet);
