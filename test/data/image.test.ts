// SPDX-License-Identifier: MIT
// Tests of the image API (lib/data/image.ts, png.ts, jpeg.ts, image-preprocess.ts): decoding PNG and JPEG, channel conversion,
// resizing (crop and squash), and hostile files refused from their headers (test/fixtures/hostile, gen_hostile.py).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../../lib/data/cifar10';
import {
  cropWindow,
  decodeImage,
  decodeJpeg,
  decodePng,
  imageFormat,
  MAX_PIXELS,
  preprocessImage,
  readImage,
  readPng,
  resizeBilinear,
} from '../../lib/data/image';
import { readJpegHeader } from '../../lib/data/jpeg';
import { readPngHeader } from '../../lib/data/png';
import { expectAllClose } from '../helpers';
import { rawPng, writePng } from './png-fixture';

const HOSTILE = path.join(__dirname, '..', 'fixtures', 'hostile');
const IMAGES = path.join(__dirname, '..', 'fixtures', 'images');
let dir: string;
const at = (name: string) => path.join(dir, name);
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-image-'));
  writePng(at('red.png'), 32, 32, () => [255, 0, 0, 255]);
  writePng(at('redblue.png'), 40, 24, (x) => (x < 20 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
  writePng(at('redblue-alpha.png'), 40, 24, (x, y) => (x < 20 ? [255, 0, 0, 255] : [0, 0, 255, (7 * y) % 256]), 6);
  writePng(at('gray.png'), 28, 28, (x, y) => new Array(3).fill((9 * x + 4 * y) % 256).concat(255), 0);
  writePng(at('gray16.png'), 30, 20, (x, y) => new Array(3).fill(1000 * x + 7 * y).concat(65535), 0, 16);
  writePng(at('rgb16.png'), 3, 2, (x, y) => [0x1234 + x, 0xfedc - y, 65535, 65535], 2, 16);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => jest.restoreAllMocks());

/** The first error `fn` throws (the test fails if it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('PNG decoding, channels, resizing and normalisation', () => {
  test('8-bit RGB decodes to exact planes; alpha is ignored', () => {
    const img = readPng(at('redblue.png'));
    expect(img).toMatchObject({ width: 40, height: 24, gray: false, depth: 8, alpha: false });
    const plane = 40 * 24;
    expect([img.rgb[0], img.rgb[plane], img.rgb[2 * plane]]).toEqual([1, 0, 0]);
    expect([img.rgb[39], img.rgb[plane + 39], img.rgb[2 * plane + 39]]).toEqual([0, 0, 1]);
    const withAlpha = readPng(at('redblue-alpha.png'));
    expect(withAlpha.alpha).toBe(true);
    expect(Array.from(withAlpha.rgb)).toEqual(Array.from(img.rgb));
  });

  test('16-bit samples keep their precision; gray files are marked gray', () => {
    const rgb = readPng(at('rgb16.png'));
    expect(rgb.depth).toBe(16);
    expect(rgb.rgb[1]).toBeCloseTo((0x1234 + 1) / 65535, 7);
    expect(rgb.rgb[6 + 3]).toBeCloseTo((0xfedc - 1) / 65535, 7);
    const gray = readPng(at('gray16.png'));
    expect(gray).toMatchObject({ gray: true, depth: 16 });
    expect(gray.rgb[2 * 30 + 5]).toBeCloseTo((5000 + 14) / 65535, 7);
  });

  test('1-bit gray and palette PNGs decode to [0, 1] (pngjs cannot write them: built by hand)', () => {
    const bits = decodePng(rawPng(8, 1, 1, 0, [[0b10110001]]));
    expect(bits).toMatchObject({ width: 8, gray: true, depth: 1 });
    expect(Array.from(bits.rgb.subarray(0, 8))).toEqual([1, 0, 1, 1, 0, 0, 0, 1]);
    const pal = decodePng(rawPng(3, 1, 8, 3, [[2, 0, 1]], [255, 0, 0, 0, 255, 0, 51, 102, 255]));
    expect(pal).toMatchObject({ gray: false, depth: 8 });
    expect(Array.from(pal.rgb)).toEqual([0.2, 1, 0, 0.4, 0, 1, 1, 0, 0].map(Math.fround));
  });

  test('bilinear resizing matches PyTorch interpolate(align_corners=False, antialias=False)', () => {
    // Numbers from torch 1.13: F.interpolate(x, size, mode='bilinear', align_corners=False).
    expect(Array.from(resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 2, 2, 4, 3))).toEqual([
      0, 0.5, 1, 0.5, 1, 1.5, 1.5, 2, 2.5, 2, 2.5, 3,
    ]);
    const ramp = Float32Array.from({ length: 35 }, (_, i) => i / 34);
    const want = [
      0.10539215058088303, 0.2083333283662796, 0.4485293924808502, 0.5514705777168274, 0.7916666269302368,
      0.8946078419685364,
    ];
    expectAllClose(resizeBilinear(ramp, 1, 5, 7, 3, 2), want, 1e-6);
  });

  test('preprocessImage: RGB to gray with luma weights, gray to RGB by copying, then (x - mean) / std', () => {
    const red = decodePng(fs.readFileSync(at('red.png')));
    const x = preprocessImage(red, { channels: 3, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD });
    expect([x[0], x[1024], x[2048]]).toEqual(
      [0, 1, 2].map((c) => Math.fround(((c === 0 ? 1 : 0) - CIFAR10_MEAN[c]) / CIFAR10_STD[c])),
    );
    expect(preprocessImage(red, { channels: 1, height: 2, width: 2, mean: [0], std: [1] })[0]).toBeCloseTo(0.299, 6);
    const gray = readPng(at('gray.png'));
    const three = preprocessImage(gray, { channels: 3, height: 28, width: 28, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(three.subarray(784, 1568))).toEqual(Array.from(three.subarray(0, 784)));
    expect(three[3]).toBeCloseTo(27 / 255, 6);
  });
});

/** A valid 8-bit RGB PNG with Adam7 interlacing (pngjs cannot write one): the passes' rows, each with filter byte 0. */
function interlacedPng(w: number, h: number, rgb: (x: number, y: number) => number[]): Buffer {
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  const bytes: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    if (x0 >= w || y0 >= h) continue;
    for (let y = y0; y < h; y += dy) {
      bytes.push(0);
      for (let x = x0; x < w; x += dx) bytes.push(...rgb(x, y));
    }
  }
  const plain = rawPng(w, h, 8, 2, []);
  // Reuse rawPng's signature and chunk layout: swap its IHDR interlace byte and IDAT for ours.
  const ihdrEnd = 8 + 8 + 13 + 4;
  const head = Buffer.from(plain.subarray(0, ihdrEnd));
  head[8 + 8 + 12] = 1;
  const crc32 = (buf: Buffer) => zlib.crc32(buf);
  head.writeUInt32BE(crc32(head.subarray(12, ihdrEnd - 4)), ihdrEnd - 4);
  const data = zlib.deflateSync(Buffer.from(bytes));
  const idat = Buffer.alloc(12 + data.length);
  idat.writeUInt32BE(data.length, 0);
  idat.write('IDAT', 4, 'latin1');
  data.copy(idat, 8);
  idat.writeUInt32BE(crc32(idat.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([head, idat, plain.subarray(plain.length - 12)]);
}

describe('hostile PNGs are refused from their chunks, before anything is inflated or decoded', () => {
  const hostile = (name: string) => path.join(HOSTILE, name);
  test.each([
    // The bypass: the cap read the first IHDR (1x1), pngjs decoded the last (10000x10000: 24 s, 1.65 GB).
    ['png-two-ihdr.png', 'has a second IHDR chunk (at byte 33); a PNG has exactly one'],
    ['png-huge.png', `30000x30000 pixels is more than this reader accepts (${MAX_PIXELS})`],
    // pngjs inflates interlaced data without a bound: this 16 KB file inflates to 16 MB for a 16x16 image.
    ['png-interlaced-bomb.png', 'the image data inflates to more than the 798 bytes a 16x16 image needs'],
    ['png-idat-first.png', 'the first chunk is "IDAT", not IHDR'],
  ])('%s', (name, message) => {
    const decode = jest.spyOn(PNG.sync, 'read');
    const err = thrown(() => readImage(hostile(name)));
    expect(err.name).toBe('FileFormatError');
    expect(err.message).toBe(`${hostile(name)}: ${message}`);
    expect(decode).not.toHaveBeenCalled();
  });

  test('every chunk must fit in the file; bad IHDR fields are named', () => {
    const good = fs.readFileSync(at('red.png'));
    expect(() => decodePng(good.subarray(0, 30), 'cut.png')).toThrow(
      /^cut\.png: not a valid PNG, or truncated \(chunk "IHDR" at byte 8 runs past the end\)$/,
    );
    expect(() => decodePng(good.subarray(0, 40), 'cut.png')).toThrow(
      /^cut\.png: not a valid PNG, or truncated \(the chunk at byte 33 is cut off at byte 40\)$/,
    );
    const zeroWide = rawPng(1, 1, 8, 2, [[1, 2, 3]]);
    zeroWide.writeUInt32BE(0, 16);
    expect(() => readPngHeader(zeroWide, 'z.png', MAX_PIXELS)).toThrow(/IHDR gives 0x1 pixels/);
    expect(() => decodePng(rawPng(1, 1, 3, 2, [[1]]), 'd.png')).toThrow(
      /colour type 2 with bit depth 3, which the PNG standard does not define/,
    );
  });

  test('a valid interlaced PNG decodes to the same pixels as a plain one', () => {
    const color = (x: number, y: number) => [(x * 37) % 256, (y * 53) % 256, (x * y) % 256];
    const interlaced = decodePng(interlacedPng(13, 11, color), 'i.png');
    const plain = decodePng(
      rawPng(
        13,
        11,
        8,
        2,
        Array.from({ length: 11 }, (_, y) => Array.from({ length: 13 }, (_, x) => color(x, y)).flat()),
      ),
    );
    expect(readPngHeader(interlacedPng(13, 11, color), 'i.png', MAX_PIXELS).interlaced).toBe(true);
    expect(Array.from(interlaced.rgb)).toEqual(Array.from(plain.rgb));
  });
});

describe('JPEG', () => {
  const pil = JSON.parse(fs.readFileSync(path.join(IMAGES, 'jpeg-pil-decode.json'), 'utf8')) as Record<
    string,
    { mode: string; size: [number, number]; rgb: string }
  >;

  // Two decoders differ in IDCT rounding by a level or two; with 4:2:0 chroma, libjpeg's smooth ("fancy") upsampling
  // differs more from jpeg-js's near colour ramps. [file, max difference, mean difference] in 8-bit levels.
  test.each([
    ['gradient.jpg', 3, 1],
    ['gradient-progressive.jpg', 12, 4],
    ['gray.jpg', 3, 1],
  ])('%s decodes as PIL (libjpeg) does within %d levels (mean %d), as planar RGB in [0, 1]', (name, max, mean) => {
    const img = readImage(path.join(IMAGES, name));
    const ref = pil[name];
    expect([img.width, img.height]).toEqual(ref.size);
    expect(img).toMatchObject({ format: 'jpeg', depth: 8, alpha: false, gray: ref.mode === 'L' });
    const bytes = Buffer.from(ref.rgb, 'base64');
    const plane = img.width * img.height;
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(Math.round(img.rgb[c * plane + i] * 255) - bytes[3 * i + c]);
        worst = Math.max(worst, d);
        sum += d;
      }
    }
    expect(worst).toBeLessThanOrEqual(max);
    expect(sum / (3 * plane)).toBeLessThanOrEqual(mean);
  });

  test('a JPEG written by jpeg-js reads back with its header and pixels', () => {
    const w = 24;
    const h = 16;
    const data = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([(i * 7) % 256, 128, 255 - ((i * 3) % 256), 255], 4 * i);
    const bytes = jpeg.encode({ width: w, height: h, data }, 100).data;
    expect(imageFormat(bytes)).toBe('jpeg');
    expect(readJpegHeader(bytes, 'x.jpg', MAX_PIXELS)).toEqual({
      width: w,
      height: h,
      components: 3,
      progressive: false,
    });
    const img = decodeJpeg(bytes, 'x.jpg');
    expect(Math.abs(img.rgb[w * h + 5] * 255 - 128)).toBeLessThanOrEqual(3);
  });

  test.each([
    [
      'jpeg-two-sof.jpg',
      /^.*jpeg-two-sof\.jpg: has a second frame header \(SOF at byte \d+\); a JPEG has exactly one$/,
    ],
    [
      'jpeg-huge.jpg',
      new RegExp(`jpeg-huge\\.jpg: 60000x60000 pixels is more than this reader accepts \\(${MAX_PIXELS}\\)$`),
    ],
  ])('hostile %s is refused from its frame headers, before decoding', (name, message) => {
    const decode = jest.spyOn(jpeg, 'decode');
    const err = thrown(() => readImage(path.join(HOSTILE, name)));
    expect(err.name).toBe('FileFormatError');
    expect(err.message).toMatch(message);
    expect(decode).not.toHaveBeenCalled();
  });

  test('lossless and arithmetic-coded JPEGs, and files without a frame header, are named as such', () => {
    const base = fs.readFileSync(path.join(IMAGES, 'gradient.jpg'));
    const sof = base.indexOf(Buffer.from([0xff, 0xc0]));
    const lossless = Buffer.from(base);
    lossless[sof + 1] = 0xc3;
    expect(() => decodeJpeg(lossless, 'l.jpg')).toThrow(/^l\.jpg: a 8-bit JPEG of kind SOF3 .* does not decode/);
    expect(() => decodeJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'e.jpg')).toThrow(/no frame header/);
  });
});

describe('files: signatures, folders, FIFOs and sizes', () => {
  test('neither PNG nor JPEG, a folder, a missing file, a huge (sparse) file', () => {
    fs.writeFileSync(at('text.png'), 'this is not a picture\n');
    expect(() => readImage(at('text.png'))).toThrow(`${at('text.png')}: not a PNG or JPEG file (neither signature)`);
    expect(() => readPng(path.join(IMAGES, 'gray.jpg'))).toThrow(/not a PNG file \(no PNG signature\)/);
    expect(() => decodeImage(Buffer.alloc(3))).toThrow(/^<buffer>: not a PNG or JPEG file/);
    expect(() => readImage(dir)).toThrow(`${dir}: is a folder, not a file`);
    expect(() => readImage(at('missing.png'))).toThrow(`${at('missing.png')}: no such file`);
    const big = at('big.png');
    fs.writeFileSync(big, fs.readFileSync(at('red.png')));
    fs.truncateSync(big, 2 ** 30 + 1); // sparse: nothing big is written
    expect(() => readImage(big)).toThrow(`${big}: 1073741825 bytes is more than this reader accepts for an image`);
    fs.rmSync(big);
  });

  // mkfifo exists on Linux and macOS only.
  (process.platform === 'win32' ? test.skip : test)('a FIFO is refused without blocking', () => {
    const fifo = at('pipe.png');
    execFileSync('mkfifo', [fifo]);
    // Reading a FIFO waits for a writer: before the check this call never returned.
    expect(() => readImage(fifo)).toThrow(
      `${fifo}: is not a regular file (a FIFO, socket or device), so it is not read`,
    );
  });
});

describe('resizing: crop (torchvision Resize + CenterCrop) and squash', () => {
  test("cropWindow follows torchvision: short side to the size, long side truncated, offsets by Python's round", () => {
    expect(cropWindow(24, 40, 32, 32)).toEqual({ height: 32, width: 53, top: 0, left: 10 }); // round(10.5) = 10
    expect(cropWindow(32, 55, 32, 32)).toEqual({ height: 32, width: 55, top: 0, left: 12 }); // round(11.5) = 12
    expect(cropWindow(100, 30, 28, 28)).toEqual({ height: 93, width: 28, top: 32, left: 0 }); // int(28 * 100 / 30)
    expect(cropWindow(64, 64, 32, 32)).toEqual({ height: 32, width: 32, top: 0, left: 0 });
    expect(cropWindow(20, 30, 8, 12)).toEqual({ height: 12, width: 18, top: 2, left: 3 });
  });

  test('crop equals resizing the whole image, then cutting the window; squash is resizeBilinear', () => {
    const img = readImage(at('redblue.png')); // 40x24
    const p = { channels: 3 as const, height: 32, width: 32, mean: [0, 0, 0], std: [1, 1, 1] };
    const win = cropWindow(24, 40, 32, 32);
    const whole = resizeBilinear(img.rgb, 3, 24, 40, win.height, win.width);
    const want = new Float32Array(3 * 32 * 32);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          want[c * 1024 + y * 32 + x] = whole[c * win.height * win.width + (y + win.top) * win.width + x + win.left];
    expect(Array.from(preprocessImage(img, p))).toEqual(Array.from(want));
    expect(Array.from(preprocessImage(img, { ...p, resize: 'crop' }))).toEqual(Array.from(want));
    expect(Array.from(preprocessImage(img, { ...p, resize: 'squash' }))).toEqual(
      Array.from(resizeBilinear(img.rgb, 3, 24, 40, 32, 32)),
    );
    // The crop keeps the aspect ratio: the red/blue edge (at x = 20 of 40) stays in the middle of the 53-wide resize.
    const red = preprocessImage(img, p).subarray(0, 1024);
    expect(red[16 * 32 + 5]).toBe(1);
    expect(red[16 * 32 + 26]).toBe(0);
  });

  test('preprocessing is the same for a square image in either mode', () => {
    const img = readImage(at('red.png'));
    const p = { channels: 3 as const, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD };
    expectAllClose(preprocessImage(img, { ...p, resize: 'crop' }), preprocessImage(img, { ...p, resize: 'squash' }), 0);
  });
});
