// SPDX-License-Identifier: MIT
// Tests of lib/io/safetensors.ts: round trips, exact bytes, hostile files and atomic writes (fixtures are in fixtures.test.ts).
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { FileFormatError } from '../../lib/errors';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
} from '../../lib/io/safetensors';
import { Tensor } from '../../lib/tensor/tensor';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-st-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ramp = (shape: number[], start = 0) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, (_, i) => start + i * 0.5 - 1),
    shape,
  );
};

/** A file from a header string (unpadded is fine) and raw data bytes; `declared` overrides N. */
function fileOf(header: string, data: ArrayLike<number> = [], declared?: bigint): Buffer {
  const json = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declared ?? BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(Array.from(data))]);
}
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const entry = (dtype: string, shape: unknown[], b: number, e: number) =>
  JSON.stringify({ dtype, shape, data_offsets: [b, e] });

describe('round trip', () => {
  test('tensors, shapes and metadata survive save -> load', () => {
    const dict = {
      'conv1.weight': ramp([6, 3, 5, 5]),
      'conv1.bias': ramp([6], 3),
      // A view at byteOffset 8 of a larger buffer: only its own 4 bytes may be written.
      scalar: new Tensor(Float32Array.of(-0, NaN, Infinity).subarray(2), []),
      empty: Tensor.zeros([0, 4]),
      'fc.10': ramp([2, 3]),
      'fc.9': ramp([3]),
    };
    const file = path.join(dir, 'w.safetensors');
    saveSafetensors(file, dict, { format: 'pt', 'simdnet.config': '{"a":"ü\\n"}' });
    const { tensors, metadata } = readSafetensors(file);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(dict).sort());
    for (const [k, t] of Object.entries(dict)) {
      expect(tensors[k].shape).toEqual(t.shape);
      expect(Array.from(tensors[k].data)).toEqual(Array.from(t.data));
    }
    expect({ ...metadata }).toEqual({ format: 'pt', 'simdnet.config': '{"a":"ü\\n"}' });
    expect(Object.keys(loadSafetensors(file))).toHaveLength(6);
  });

  test('special values and -0 keep their exact bits', () => {
    const t = new Tensor(Float32Array.of(-0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38), [6]);
    const back = decodeSafetensors(encodeSafetensors({ t })).tensors.t;
    expect(new Uint32Array(back.data.buffer)).toEqual(new Uint32Array(t.data.buffer));
  });

  test('loaded tensors own aligned memory even when the file offsets are unaligned', () => {
    // Shift the whole file by one byte inside a bigger buffer so every value sits at an odd address.
    const bytes = encodeSafetensors({ a: ramp([3]), b: ramp([5], 7) });
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const { tensors } = decodeSafetensors(shifted);
    expect(tensors.b.data.byteOffset % 4).toBe(0);
    expect(tensors.b.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(tensors.b.data)).toEqual(Array.from(ramp([5], 7).data));
  });

  test('no metadata reads back as {} and the header has no __metadata__', () => {
    const buf = encodeSafetensors({ x: ramp([2]) });
    expect(buf.toString('utf8')).not.toContain('__metadata__');
    expect({ ...decodeSafetensors(buf).metadata }).toEqual({});
  });

  test('F64 tensors are converted to float32', () => {
    const data = new Uint8Array(Float64Array.of(1.5, -2.25, 0.1).buffer);
    const t = decodeSafetensors(fileOf(`{"d":${entry('F64', [3], 0, 24)}}`, data)).tensors.d;
    expect(Array.from(t.data)).toEqual([1.5, -2.25, Math.fround(0.1)]);
  });

  test('a tensor named __proto__ in a file does not touch the prototype', () => {
    const { tensors } = decodeSafetensors(fileOf(`{"__proto__":${entry('F32', [1], 0, 4)}}`, f32(2)));
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(tensors['__proto__'].data[0]).toBe(2);
  });
});

describe('exact bytes', () => {
  test('one tensor matches the reference implementation byte for byte', () => {
    // The reference's own test: "attn0", F32 [1, 1, 2, 3] = 0..5; 65-byte JSON padded with 7 spaces to 72.
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const expected = Buffer.concat([
      Buffer.from([72, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(json + ' '.repeat(7), 'ascii'),
      Buffer.from([0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]),
    ]);
    expect(json.length).toBe(65);
    const t = new Tensor(Float32Array.of(0, 1, 2, 3, 4, 5), [1, 1, 2, 3]);
    expect(encodeSafetensors({ attn0: t })).toEqual(expected);
    const file = path.join(dir, 'a.safetensors');
    saveSafetensors(file, { attn0: t });
    expect(fs.readFileSync(file)).toEqual(expected);
  });

  test('names are sorted by bytes, metadata first with sorted keys, scalars have shape []', () => {
    const json =
      '{"__metadata__":{"a":"1","format":"pt"},' +
      '"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"b.10":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},' +
      '"b.9":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}';
    expect(json.length).toBe(206); // -> 2 spaces of padding to 208
    const expected = Buffer.concat([
      Buffer.from([208, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(json + '  ', 'ascii'),
      Buffer.from([0, 0, 0x80, 0x3f]), // b = 1
      Buffer.from([0, 0, 0, 0x40, 0, 0, 0x40, 0x40]), // b.10 = [2, 3]
      Buffer.from([0, 0, 0x80, 0xc0]), // b.9 = -4
    ]);
    const dict = {
      'b.9': Tensor.fromArray([-4], [1]),
      'b.10': Tensor.fromArray([2, 3], [2]),
      b: Tensor.fromArray([1], []),
    };
    expect(encodeSafetensors(dict, { format: 'pt', a: '1' })).toEqual(expected);
  });

  test('empty dict is "{}" padded to 8', () => {
    expect(encodeSafetensors({})).toEqual(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]));
  });
});

describe('hostile or broken files give FileFormatError naming the file and the problem', () => {
  const good = `{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [1], 8, 12)}}`;
  const cases: [string, Buffer, RegExp][] = [
    ['too short', Buffer.from([1, 2, 3]), /too short/],
    [
      'header length past the end',
      fileOf(good, f32(1, 2, 3), 1000n),
      /header length 1000 is larger than the \d+ bytes/,
    ],
    ['header length 2^64-1', fileOf(good, f32(1, 2, 3), 2n ** 64n - 1n), /header length 18446744073709551615/],
    ['invalid UTF-8', fileOf('{"\xff":1}').fill(0xff, 10, 11), /not valid UTF-8/],
    ['not JSON', fileOf('{"a": nope}'), /not valid JSON/],
    ['JSON but not an object', fileOf('[1,2]'), /must be a JSON object/],
    [
      'duplicate tensor name',
      fileOf(`{"a":${entry('F32', [1], 0, 4)},"a":${entry('F32', [1], 4, 8)}}`, f32(1, 2)),
      /key "a" twice/,
    ],
    [
      'duplicate name written with an escape',
      fileOf(`{"a":${entry('F32', [1], 0, 4)},"\\u0061":${entry('F32', [1], 4, 8)}}`, f32(1, 2)),
      /key "a" twice/,
    ],
    [
      'duplicate key inside an entry',
      fileOf(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)),
      /key "dtype" twice/,
    ],
    [
      'unknown key',
      fileOf(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}}`, f32(1)),
      /tensor "a": unknown key "stride"/,
    ],
    ['missing key', fileOf(`{"a":{"dtype":"F32","shape":[1]}}`, f32(1)), /tensor "a": missing "data_offsets"/],
    ['entry not an object', fileOf(`{"a":[1]}`), /tensor "a": header entry must be an object/],
    ['unknown dtype', fileOf(`{"a":${entry('F31', [1], 0, 4)}}`, f32(1)), /tensor "a": unknown dtype "F31"/],
    ['F16', fileOf(`{"h":${entry('F16', [2], 0, 4)}}`, [0, 60, 0, 60]), /tensor "h" has dtype F16/],
    [
      'I64 beyond 2^24',
      fileOf(`{"t":${entry('I64', [1], 0, 8)}}`, new Uint8Array(new BigInt64Array([2n ** 40n]).buffer)),
      /tensor "t" holds the I64 value 1099511627776 \(at index 0\) beyond 2\^24/,
    ],
    [
      // Rounded to float32 first, 2^24 + 1 became 2^24 and passed the check.
      'I64 2^24 + 1',
      fileOf(`{"t":${entry('I64', [2], 0, 16)}}`, new Uint8Array(new BigInt64Array([5n, 2n ** 24n + 1n]).buffer)),
      /tensor "t" holds the I64 value 16777217 \(at index 1\) beyond 2\^24/,
    ],
    [
      'I64 -(2^24 + 1)',
      fileOf(`{"t":${entry('I64', [1], 0, 8)}}`, new Uint8Array(new BigInt64Array([-(2n ** 24n) - 1n]).buffer)),
      /I64 value -16777217/,
    ],
    [
      'negative dim',
      fileOf(`{"a":${entry('F32', [-1, 2], 0, 8)}}`, f32(1, 2)),
      /tensor "a": shape\[0\] is -1, expected an integer >= 0/,
    ],
    ['fractional dim', fileOf(`{"a":${entry('F32', [2, 0.5], 0, 4)}}`, f32(1)), /shape\[1\] is 0.5/],
    ['string dim', fileOf(`{"a":${entry('F32', ['2'], 0, 8)}}`, f32(1, 2)), /shape\[0\] is "2"/],
    [
      'shape not an array',
      fileOf(`{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}`, f32(1, 2)),
      /shape must be an array/,
    ],
    [
      'offsets out of range',
      fileOf(`{"a":${entry('F32', [4], 0, 16)}}`, f32(1, 2)),
      /tensor "a": data_offsets \[0, 16\] are out of range: the data section has 8 bytes/,
    ],
    ['negative offset', fileOf(`{"a":${entry('F32', [1], -4, 0)}}`, f32(1)), /data_offsets must be two integers >= 0/],
    [
      'three offsets',
      fileOf(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32(1)),
      /data_offsets must be two integers/,
    ],
    ['offsets reversed', fileOf(`{"a":${entry('F32', [0], 4, 0)}}`, f32(1)), /end before they begin/],
    [
      'offsets not matching shape*4',
      fileOf(`{"a":${entry('F32', [3], 0, 8)}}`, f32(1, 2)),
      /hold 8 bytes but F32 shape \[3\] needs 12/,
    ],
    ['huge shape', fileOf(`{"a":${entry('F32', [2 ** 40, 2 ** 40], 0, 4)}}`, f32(1)), /needs \d/],
    [
      'overlapping offsets',
      fileOf(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [2], 4, 12)}}`, f32(1, 2, 3)),
      /tensor "b" data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/,
    ],
    [
      'same offsets twice',
      fileOf(`{"a":${entry('F32', [1], 0, 4)},"b":${entry('F32', [1], 0, 4)}}`, f32(1)),
      /overlap/,
    ],
    [
      'gap between tensors',
      fileOf(`{"a":${entry('F32', [1], 0, 4)},"b":${entry('F32', [1], 8, 12)}}`, f32(1, 2, 3)),
      /data bytes 4..8 belong to no tensor/,
    ],
    ['trailing bytes', fileOf(`{"a":${entry('F32', [1], 0, 4)}}`, f32(1, 2)), /last 4 data bytes belong to no tensor/],
    ['metadata not strings', fileOf(`{"__metadata__":{"epochs":3}}`), /__metadata__ "epochs" must be a string/],
    ['metadata not an object', fileOf(`{"__metadata__":"pt"}`), /__metadata__ must be an object/],
  ];

  test.each(cases)('%s', (_what, buf, message) => {
    let err: unknown;
    try {
      decodeSafetensors(buf, 'bad.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as FileFormatError).file).toBe('bad.safetensors');
    expect((err as Error).message).toMatch(/^bad\.safetensors: /);
    expect((err as Error).message).toMatch(message);
  });

  test('the good file of these cases does load', () => {
    expect(Object.keys(decodeSafetensors(fileOf(good, f32(1, 2, 3))).tensors)).toEqual(['a', 'b']);
  });

  test('loadSafetensors names the path; a truncated real file is caught', () => {
    const file = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(file, encodeSafetensors({ w: ramp([10]) }).subarray(0, -4));
    expect(() => loadSafetensors(file)).toThrow(FileFormatError);
    expect(() => loadSafetensors(file)).toThrow(`${file}: tensor "w": data_offsets [0, 40] are out of range`);
  });

  test("a missing file gives Node's ENOENT error", () => {
    expect(() => loadSafetensors(path.join(dir, 'nope.safetensors'))).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});

describe('bad arguments to the writers', () => {
  test('non-Tensor values, non-string metadata and the reserved name are rejected before any file exists', () => {
    const file = path.join(dir, 'x.safetensors');
    const arr = [1, 2] as unknown as Tensor;
    expect(() => saveSafetensors(file, { a: arr })).toThrow(
      new TypeError('saveSafetensors: "a" must be a Tensor, got Array'),
    );
    expect(() => saveSafetensors(file, { a: ramp([1]) }, { n: 3 as unknown as string })).toThrow(TypeError);
    expect(() => saveSafetensors(file, { __metadata__: ramp([1]) })).toThrow(RangeError);
    expect(() => saveSafetensors(file, null as unknown as Record<string, Tensor>)).toThrow(TypeError);
    expect(() => encodeSafetensors({ a: ramp([1]) }, [] as unknown as Record<string, string>)).toThrow(TypeError);
    expect(() => decodeSafetensors('abc' as unknown as Buffer)).toThrow(TypeError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('atomic writes', () => {
  const name = 'model.safetensors';
  const setup = () => {
    const file = path.join(dir, name);
    saveSafetensors(file, { w: ramp([4]) }, { version: 'old' });
    return { file, before: fs.readFileSync(file) };
  };
  const big = { a: ramp([100]), b: ramp([100]), c: ramp([100]) };

  test('a write failing half-way leaves the previous file intact and no temp file', () => {
    const { file, before } = setup();
    const realWrite = fs.writeSync;
    let calls = 0;
    jest.spyOn(fs, 'writeSync').mockImplementation(((...args: Parameters<typeof fs.writeSync>) => {
      if (++calls === 3) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return (realWrite as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync);
    expect(() => saveSafetensors(file, big, { version: 'new' })).toThrow('ENOSPC');
    expect(calls).toBe(3);
    expect(fs.readFileSync(file)).toEqual(before);
    expect(fs.readdirSync(dir)).toEqual([name]);
  });

  test.each(['fsyncSync', 'renameSync'] as const)(
    'a failing %s leaves the previous file intact and no temp file',
    (fn) => {
      const { file, before } = setup();
      jest.spyOn(fs, fn).mockImplementation(() => {
        throw new Error(`${fn} failed`);
      });
      expect(() => saveSafetensors(file, big)).toThrow(`${fn} failed`);
      jest.restoreAllMocks();
      expect(fs.readFileSync(file)).toEqual(before);
      expect(fs.readdirSync(dir)).toEqual([name]);
    },
  );

  test('a successful save replaces the file and leaves no temp file', () => {
    const { file } = setup();
    saveSafetensors(file, big, { version: 'new' });
    expect(fs.readdirSync(dir)).toEqual([name]);
    expect(readSafetensors(file).metadata.version).toBe('new');
    expect(fs.readFileSync(file)).toEqual(encodeSafetensors(big, { version: 'new' }));
  });

  test("temp files of writers killed mid-write are deleted by the next save; live writers' and other files stay", () => {
    const { file } = setup();
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number; // exited: its pid runs nothing now
    const stale = `.${name}.${dead}.0123456789ab.tmp`;
    const live = `.${name}.${process.ppid}.ba9876543210.tmp`;
    const others = [`.other.safetensors.${dead}.0123456789ab.tmp`, `.${name}.notapid.tmp`];
    for (const f of [stale, live, ...others]) fs.writeFileSync(path.join(dir, f), 'partial');
    saveSafetensors(file, big);
    expect(fs.readdirSync(dir).sort()).toEqual([live, ...others, name].sort());
  });

  test('a missing folder fails without creating anything', () => {
    expect(() => saveSafetensors(path.join(dir, 'no', name), big)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

test('I64 tensors load as float32 when exact (PyTorch BatchNorm num_batches_tracked)', () => {
  const header = JSON.stringify({ num_batches_tracked: { dtype: 'I64', shape: [], data_offsets: [0, 8] } });
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const bytes = Buffer.concat([Buffer.alloc(8), Buffer.from(padded), Buffer.from(new BigInt64Array([-12345n]).buffer)]);
  bytes.writeBigUInt64LE(BigInt(padded.length), 0);
  const t = decodeSafetensors(bytes).tensors.num_batches_tracked;
  expect(t.shape).toEqual([]);
  expect(t.data[0]).toBe(-12345);
  const edge = Buffer.from(bytes);
  edge.writeBigInt64LE(2n ** 24n, bytes.length - 8); // the largest accepted value
  expect(decodeSafetensors(edge).tensors.num_batches_tracked.data[0]).toBe(2 ** 24);
});
