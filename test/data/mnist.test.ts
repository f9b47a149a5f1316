// SPDX-License-Identifier: MIT
// MNIST and FashionMNIST tests on tiny generated IDX files: layouts, raw and .gz, exact pixel values, classes, corrupt files, options.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { FileFormatError } from '../../lib/errors';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  FashionMNIST,
  MNIST,
  MNIST_CLASSES,
  MNIST_MEAN,
  MNIST_STD,
} from '../../lib/data';
import { encodeIdx, writeTinyMnist } from './idx-fixture';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-mnist-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('reading', () => {
  test('raw files, .gz files, root/raw and torchvision root/MNIST/raw all give the same samples', () => {
    const data = writeTinyMnist(path.join(tmp, 'raw-files'));
    writeTinyMnist(path.join(tmp, 'gz-files'), { gzip: true });
    writeTinyMnist(path.join(tmp, 'parent', 'raw'));
    writeTinyMnist(path.join(tmp, 'torchvision', 'MNIST', 'raw'), { gzip: true });
    const roots = ['raw-files', 'gz-files', 'parent', 'torchvision'].map((r) => path.join(tmp, r));
    for (const root of roots) {
      const ds = new MNIST({ root });
      expect(ds.length).toBe(12);
      expect(ds.sampleShape).toEqual([1, 28, 28]);
      expect(Array.from({ length: 12 }, (_, i) => ds.get(i).label)).toEqual([...data.train.labels]);
      expect(ds.get(5).image).toEqual(new MNIST({ root: roots[0] }).get(5).image);
      const test = new MNIST({ root, train: false });
      expect(test.length).toBe(6);
      expect([...Array(6).keys()].map((i) => test.get(i).label)).toEqual([3, 4, 5, 6, 7, 8]);
    }
    expect(new MNIST({ root: roots[3] }).files).toEqual(
      ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'].map((f) =>
        path.join(tmp, 'torchvision', 'MNIST', 'raw', f),
      ),
    );
    // FashionMNIST looks in FashionMNIST/raw/, not MNIST/raw/.
    expect(() => new FashionMNIST({ root: roots[3] })).toThrow(
      /no FashionMNIST training data found .*FashionMNIST\/raw/,
    );
    writeTinyMnist(path.join(tmp, 'torchvision', 'FashionMNIST', 'raw'), { seed: 5 });
    expect(new FashionMNIST({ root: roots[3] }).length).toBe(12);
  });

  test('.gz is preferred when a folder holds both (the file a download checks)', () => {
    const dir = path.join(tmp, 'both');
    writeTinyMnist(dir, { train: 4 });
    writeTinyMnist(dir, { train: 7, gzip: true });
    expect(new MNIST({ root: dir }).length).toBe(7);
  });

  test('classes, sampleShape, instanceof and toString', () => {
    writeTinyMnist(tmp);
    const m = new MNIST({ root: tmp });
    const f = new FashionMNIST({ root: tmp, train: false });
    expect(m.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(MNIST_CLASSES).toBe(m.classes);
    expect(f.classes).toEqual([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]);
    expect(FASHION_MNIST_CLASSES).toBe(f.classes);
    expect(f).toBeInstanceOf(MNIST);
    expect(f.sampleShape).toEqual([1, 28, 28]);
    expect(String(m)).toBe('MNIST(train, length=12, normalize=true)');
    expect(String(f)).toBe('FashionMNIST(test, length=6, normalize=true)');
  });

  test('pixels: x/255 then (x - mean) / std with each dataset’s constants, exactly, in get and getBatch', () => {
    expect([MNIST_MEAN, MNIST_STD, FASHION_MNIST_MEAN, FASHION_MNIST_STD]).toEqual([
      [0.1307],
      [0.3081],
      [0.286],
      [0.353],
    ]);
    // Image 1 holds every byte value: pixel k = (k * 3) % 256 covers 0..255 over 784 pixels.
    const pixels = Uint8Array.from({ length: 2 * 784 }, (_, k) => (k < 784 ? 0 : ((k - 784) * 3) % 256));
    fs.writeFileSync(path.join(tmp, 'train-images-idx3-ubyte'), encodeIdx([2, 28, 28], pixels));
    fs.writeFileSync(path.join(tmp, 'train-labels-idx1-ubyte'), encodeIdx([2], [7, 2]));
    const byte = (k: number) => pixels[784 + k];
    const cases: [typeof MNIST, boolean, number, number][] = [
      [MNIST, true, 0.1307, 0.3081],
      [FashionMNIST, true, 0.286, 0.353],
      [MNIST, false, 0, 1],
      [FashionMNIST, false, 0, 1],
    ];
    for (const [Cls, normalize, mean, std] of cases) {
      const ds = new Cls({ root: tmp, normalize });
      const want = Float32Array.from({ length: 784 }, (_, k) => (byte(k) / 255 - mean) / std);
      expect(ds.get(1)).toEqual({ image: want, label: 2 });
      const images = new Float32Array(3 * 784);
      const labels = new Int32Array(3);
      ds.getBatch([1, 0, 1], images, labels);
      expect(labels).toEqual(Int32Array.from([2, 7, 2]));
      expect(images.subarray(0, 784)).toEqual(want);
      expect(images.subarray(1568)).toEqual(want);
      expect(images[784]).toBe(Math.fround((0 - mean) / std));
    }
    // Literal anchors: black and white pixels.
    const m = new MNIST({ root: tmp });
    expect(m.get(0).image[0]).toBeCloseTo(-0.4242129, 6);
    expect(m.get(1).image[85]).toBeCloseTo(2.8214866, 6); // byte 255
    const f = new FashionMNIST({ root: tmp });
    expect(f.get(0).image[0]).toBeCloseTo(-0.8101983, 6);
    expect(f.get(1).image[85]).toBeCloseTo(2.0226629, 6);
  });

  test('option and index errors', () => {
    writeTinyMnist(tmp);
    expect(() => new MNIST({ root: tmp, download: true })).toThrow(/needs the async factory: use `await MNIST\.load/);
    expect(() => new FashionMNIST({ root: tmp, download: true })).toThrow(/FashionMNIST\.load/);
    expect(() => new MNIST({ root: tmp, train: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => new MNIST({ root: tmp, batchSize: 3 } as object)).toThrow(
      /MNIST: unknown option 'batchSize' \(known: root, /,
    );
    expect(() => new MNIST({ root: tmp, batchSize: 3 } as object)).toThrow(RangeError);
    expect(() => new MNIST({ root: tmp, md5: { 'train-images-idx3-ubyte.gz': 'abc' } })).toThrow(RangeError);
    expect(() => new MNIST({ root: tmp, md5: { 'train-images.gz': '0'.repeat(32) } })).toThrow(
      /unknown file "train-images.gz"/,
    );
    expect(() => new MNIST({ root: tmp, md5: { constructor: '0'.repeat(32) } })).toThrow(/unknown file "constructor"/);
    expect(() => new MNIST({ root: tmp, url: 'ftp://x/' })).toThrow(RangeError);
    expect(() => new MNIST({ root: tmp, timeoutMs: 0 })).toThrow(RangeError);
    const ds = new MNIST({ root: tmp });
    expect(() => ds.get(12)).toThrow(/MNIST\.get: index 12 out of range 0\.\.11/);
    expect(() => ds.getBatch([0], new Float32Array(10), new Int32Array(1))).toThrow(RangeError);
  });
});

describe('corrupt or missing data gives FileFormatError naming the file', () => {
  const imagesFile = () => path.join(tmp, 'train-images-idx3-ubyte');
  const labelsFile = () => path.join(tmp, 'train-labels-idx1-ubyte');
  const expectError = (file: string, message: RegExp | string, fn = () => new MNIST({ root: tmp })) => {
    const err = catchError(fn);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as FileFormatError).file).toBe(file);
    expect(err.message).toMatch(message);
  };

  test('no data, a missing split, and a file as root', () => {
    expectError(
      tmp,
      /no MNIST training data found \(looked for train-images-idx3-ubyte\[\.gz\] and train-labels-idx1-ubyte\[\.gz\] in .*, raw, MNIST\/raw\); pass download: true/,
    );
    writeTinyMnist(tmp);
    fs.rmSync(path.join(tmp, 't10k-labels-idx1-ubyte'));
    expect(new MNIST({ root: tmp }).length).toBe(12);
    expectError(tmp, /no MNIST test data found/, () => new MNIST({ root: tmp, train: false }));
    expectError(imagesFile(), /expected a folder holding the IDX files/, () => new MNIST({ root: imagesFile() }));
  });

  test('images and labels disagree, a label > 9, wrong image size, no images', () => {
    writeTinyMnist(tmp);
    fs.writeFileSync(labelsFile(), encodeIdx([11], new Uint8Array(11)));
    expectError(labelsFile(), 'has 11 labels but train-images-idx3-ubyte has 12 images');
    fs.writeFileSync(labelsFile(), encodeIdx([12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]));
    expectError(labelsFile(), `${labelsFile()}: label 10 is 10, expected 0..9`);
    fs.writeFileSync(imagesFile(), encodeIdx([12, 32, 32], new Uint8Array(12 * 1024)));
    expectError(imagesFile(), 'images are 32x32, expected 28x28');
    fs.writeFileSync(imagesFile(), encodeIdx([0, 28, 28], []));
    expectError(imagesFile(), 'holds no images');
  });

  test('swapped files, truncated raw file, truncated .gz', () => {
    writeTinyMnist(tmp);
    fs.copyFileSync(labelsFile(), imagesFile());
    expectError(imagesFile(), /says 1 dimension\(s\) \(labels\), expected 3 \(images\)/);
    writeTinyMnist(tmp);
    fs.truncateSync(imagesFile(), 16 + 784 * 12 - 1);
    expectError(imagesFile(), /truncated: dimensions 12x28x28 need 9408 data bytes, the file has 9407/);
    fs.rmSync(imagesFile());
    const gz = zlib.gzipSync(encodeIdx([12, 28, 28], new Uint8Array(12 * 784).fill(9)));
    fs.writeFileSync(`${imagesFile()}.gz`, gz.subarray(0, gz.length - 10));
    expectError(`${imagesFile()}.gz`, /corrupt or truncated gzip data/);
  });
});
