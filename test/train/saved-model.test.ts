// SPDX-License-Identifier: MIT
// Tests of lib/train/saved-model.ts: metadata layout, round trip through a file, and clear errors for files that cannot rebuild a model.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError } from '../../lib/errors';
import { readSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { LeNet } from '../../lib/modules/lenet';
import { manualSeed } from '../../lib/random';
import { loadModel, modelMetadata, saveModel } from '../../lib/train/saved-model';
import { tinyModel } from './synthetic';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-model-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the metadata names the architecture and its config, as docs/architecture.md says', () => {
  const net = new LeNet({ inChannels: 1, imageSize: 28 });
  expect(modelMetadata(net)).toEqual({
    format: 'pt',
    'simdnet.arch': 'LeNet',
    'simdnet.config': '{"inChannels":1,"imageSize":28,"numClasses":10,"padding":2}',
  });
  expect(() => modelMetadata(tinyModel() as never)).toThrow(/must be one of LeNet/);
});

test('saveModel then loadModel rebuilds the same architecture with the same weights', () => {
  manualSeed(5);
  const net = new LeNet({ numClasses: 4 });
  const file = path.join(dir, 'net.safetensors');
  saveModel(file, net);
  expect(readSafetensors(file).metadata['simdnet.arch']).toBe('LeNet');
  const back = loadModel(file) as LeNet;
  expect(back).toBeInstanceOf(LeNet);
  expect(back.config).toEqual(net.config);
  const want = net.stateDict();
  for (const [name, t] of Object.entries(back.stateDict())) expect(Array.from(t.data)).toEqual(Array.from(want[name].data));
});

describe('files that cannot rebuild a model give a FileFormatError naming the file', () => {
  const weights = () => new LeNet().stateDict();
  const write = (metadata?: Record<string, string>, dict = weights()) => {
    const file = path.join(dir, 'w.safetensors');
    saveSafetensors(file, dict, metadata);
    return file;
  };
  const cases: [string, () => string, RegExp][] = [
    ['no metadata', () => write(), /no "simdnet.arch" in the metadata/],
    ['an unknown architecture', () => write({ 'simdnet.arch': 'ResNet' }), /unknown architecture "ResNet" \(known: LeNet, LeNetBN\)/],
    ['an inherited property name as architecture', () => write({ 'simdnet.arch': 'toString' }), /unknown architecture/],
    ['config that is not JSON', () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '{oops' }), /not valid JSON/],
    ['config that is not an object', () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '[1]' }), /must be a JSON object/],
    ['a config LeNet rejects', () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '{"depth":3}' }), /bad LeNet config/],
    ['weights of another shape', () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '{"numClasses":5}' }), /weights do not fit LeNet.*fc3/],
  ];
  test.each(cases)('%s', (_, make, message) => {
    const file = make();
    const err = (() => {
      try {
        loadModel(file);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message.startsWith(file)).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});
