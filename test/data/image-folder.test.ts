// SPDX-License-Identifier: MIT
// ImageFolder tests on small folders written here: torchvision's layout rules (sorted classes, recursive sorted files,
// hidden entries skipped), samples equal to preprocessImage's, and a clear error for every odd folder or oversized input.
import * as fs from 'fs';
import * as path from 'path';
import { readImage, preprocessImage } from '../../lib/data/image';
import { IMAGE_FOLDER_MAX_VALUES, ImageFolder, imageFolderClasses } from '../../lib/data/image-folder';
import { tempDir } from '../cli/helpers';
import { writePng } from './png-fixture';

const JPEG = path.join(__dirname, '..', 'fixtures', 'images', 'gradient.jpg');
let root: string;
const at = (...parts: string[]) => path.join(root, ...parts);
const mkdir = (...parts: string[]) => fs.mkdirSync(at(...parts), { recursive: true });

beforeEach(() => {
  root = tempDir('simdnet-imagefolder-');
  mkdir('dog');
  mkdir('cat', 'more');
  mkdir('.ipynb_checkpoints');
  writePng(at('dog', 'b.png'), 32, 32, (x) => [x * 8, 0, 0, 255]);
  writePng(at('dog', 'a.PNG'), 48, 20, (x, y) => [0, x * 5, y * 12, 255]);
  writePng(at('cat', 'z.png'), 10, 10, () => [9, 9, 9, 255], 0);
  fs.copyFileSync(JPEG, at('cat', 'more', 'photo.jpeg'));
  writePng(at('.ipynb_checkpoints', 'x.png'), 4, 4, () => [0, 0, 0, 255]);
  writePng(at('cat', '.hidden.png'), 4, 4, () => [0, 0, 0, 255]);
  fs.writeFileSync(at('cat', 'notes.txt'), 'not an image');
  fs.writeFileSync(at('README.md'), 'a file beside the class folders');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('classes are the sorted subfolders; files are found recursively, sorted, hidden and non-image entries skipped', () => {
  const ds = new ImageFolder({ root });
  expect(ds.classes).toEqual(['cat', 'dog']);
  expect(ds.files).toEqual([
    at('cat', 'more', 'photo.jpeg'),
    at('cat', 'z.png'),
    at('dog', 'a.PNG'),
    at('dog', 'b.png'),
  ]);
  expect(ds.length).toBe(4);
  expect(ds.sampleShape).toEqual([3, 32, 32]);
  expect([0, 1, 2, 3].map((i) => ds.get(i).label)).toEqual([0, 0, 1, 1]);
  expect(imageFolderClasses(root)).toEqual(['cat', 'dog']);
});

test('samples are preprocessImage of each file (crop, 0.5/0.5), in get and getBatch; options pass through', () => {
  const ds = new ImageFolder({ root });
  const want = ds.files.map((f) =>
    preprocessImage(readImage(f), { channels: 3, height: 32, width: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }),
  );
  want.forEach((x, i) => expect(Array.from(ds.get(i).image)).toEqual(Array.from(x)));
  const images = new Float32Array(2 * 3072);
  const labels = new Int32Array(2);
  ds.getBatch([3, 0], images, labels);
  expect(Array.from(labels)).toEqual([1, 0]);
  expect(Array.from(images.subarray(0, 3072))).toEqual(Array.from(want[3]));
  expect(Array.from(images.subarray(3072))).toEqual(Array.from(want[0]));

  const gray = new ImageFolder({ root, sampleShape: [1, 8, 6], resize: 'squash', mean: [0], std: [1] });
  expect(gray.sampleShape).toEqual([1, 8, 6]);
  expect(Array.from(gray.get(2).image)).toEqual(
    Array.from(
      preprocessImage(readImage(ds.files[2]), {
        channels: 1,
        height: 8,
        width: 6,
        mean: [0],
        std: [1],
        resize: 'squash',
      }),
    ),
  );
  expect(() => ds.get(4)).toThrow(RangeError);
});

test('train/ and val/ layouts work as two ImageFolders', () => {
  mkdir('train');
  fs.renameSync(at('cat'), at('train', 'cat'));
  fs.renameSync(at('dog'), at('train', 'dog'));
  expect(new ImageFolder({ root: at('train') }).length).toBe(4);
});

describe('odd folders and files: a FileFormatError naming the folder or file', () => {
  const error = (run: () => unknown): Error => {
    try {
      run();
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected an error');
  };
  test.each<[string, () => string, RegExp]>([
    ['a missing root', () => at('none'), /none: no such folder$/],
    [
      'a file as root',
      () => at('README.md'),
      /README\.md: is not a folder \(an image folder holds one subfolder per class\)$/,
    ],
    [
      'images but no class folders',
      () => at('dog'),
      /dog: holds 2 images but no class folders: put each class's images in a subfolder named after the class$/,
    ],
    [
      'an empty class folder',
      () => {
        mkdir('empty');
        return root;
      },
      /empty: class folder "empty" holds no PNG or JPEG images \(\.png, \.jpg, \.jpeg\)$/,
    ],
    [
      'an image format this reader does not decode',
      () => {
        fs.writeFileSync(at('dog', 'c.bmp'), 'BM');
        return root;
      },
      /c\.bmp: BMP images are not read \(PNG and JPEG only\): convert or remove it$/,
    ],
    [
      'an image that is not one',
      () => {
        fs.writeFileSync(at('dog', 'broken.png'), 'not a png');
        return root;
      },
      /broken\.png: not a PNG or JPEG file/,
    ],
  ])('%s', (_name, make, message) => {
    const err = error(() => new ImageFolder({ root: make() }));
    expect(err.name).toBe('FileFormatError');
    expect(err.message).toMatch(message);
  });

  test('a file over maxFileBytes, and more samples than IMAGE_FOLDER_MAX_VALUES, are refused before decoding', () => {
    expect(() => new ImageFolder({ root, maxFileBytes: 100 })).toThrow(/bytes is more than maxFileBytes \(100\)$/);
    // 4 images of 3x4096x4096 would need 201,326,592 floats: within the cap. 6 would not.
    for (const k of [1, 2]) fs.copyFileSync(at('dog', 'b.png'), at('dog', `copy${k}.png`));
    expect(() => new ImageFolder({ root, sampleShape: [3, 4096, 4096] })).toThrow(
      new RegExp(
        `6 images of 3x4096x4096 need 301989888 floats, more than the ${IMAGE_FOLDER_MAX_VALUES} an ImageFolder holds`,
      ),
    );
  });

  test('bad options are TypeErrors or RangeErrors naming the option', () => {
    expect(() => new ImageFolder(undefined as never)).toThrow(TypeError);
    expect(() => new ImageFolder({ root: '' })).toThrow(/root must be a non-empty string/);
    expect(() => new ImageFolder({ root, size: 3 } as never)).toThrow(/unknown option 'size'/);
    expect(() => new ImageFolder({ root, sampleShape: [2, 8, 8] })).toThrow(
      /sampleShape must be \[channels \(1 or 3\)/,
    );
    expect(() => new ImageFolder({ root, resize: 'fit' as never })).toThrow(/resize must be one of crop, squash/);
    expect(() => new ImageFolder({ root, mean: [0.5] })).toThrow(/mean must be 3 finite numbers/);
    expect(() => new ImageFolder({ root, std: [1, 0, 1] })).toThrow(/std must be 3 finite numbers > 0/);
    expect(() => new ImageFolder({ root, maxFileBytes: 0 })).toThrow(/maxFileBytes must be an integer >= 1/);
  });
});
