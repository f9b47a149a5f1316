// SPDX-License-Identifier: MIT
// Tests of the shared atomic writer (lib/io/atomic-file.ts): whole-or-nothing replacement, errors naming the target,
// stale temps of killed writers, and the streaming handle downloads use.
import { spawnSync } from 'child_process';
import fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  explainWriteError,
  FileWriteError,
  openAtomicFile,
  writeFileAtomic,
  writeJsonAtomic,
} from '../../lib/io/atomic-file';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-atomic-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('writes one buffer or chunks in order, replacing the old file, and leaves no temp file', () => {
  const file = path.join(dir, 'a.bin');
  writeFileAtomic(file, Buffer.from('old'));
  writeFileAtomic(file, [Buffer.from('ne'), new Uint8Array([0x77]), Buffer.alloc(0)]);
  expect(fs.readFileSync(file, 'utf8')).toBe('new');
  expect(fs.readdirSync(dir)).toEqual(['a.bin']);
  writeJsonAtomic(file, { x: [1, NaN] });
  expect(fs.readFileSync(file, 'utf8')).toBe('{\n  "x": [\n    1,\n    null\n  ]\n}\n');
});

test('a missing folder is a FileWriteError naming the target and the reason', () => {
  const file = path.join(dir, 'missing', 'a.bin');
  expect(() => writeFileAtomic(file, Buffer.from('x'))).toThrow(
    expect.objectContaining({
      name: 'FileWriteError',
      file,
      code: 'ENOENT',
      message: `${file}: cannot write it (its folder does not exist (ENOENT))`,
    }),
  );
  expect(() => writeFileAtomic('', Buffer.from('x'))).toThrow(TypeError);
});

test.each([
  ['writeSync', 'ENOSPC', 'no space left on the disk (ENOSPC)'],
  ['fsyncSync', 'EIO', 'input/output error on the disk (EIO)'],
  ['renameSync', 'EROFS', 'the folder is on a read-only file system (EROFS)'],
] as const)('a failing %s (%s) keeps the old file, removes the temp and says why', (fn, code, why) => {
  const file = path.join(dir, 'a.bin');
  writeFileAtomic(file, Buffer.from('old'));
  jest.spyOn(fs, fn).mockImplementation(() => {
    throw Object.assign(new Error(`${code}: failed`), { code });
  });
  expect(() => writeFileAtomic(file, Buffer.from('new'))).toThrow(`${file}: cannot write it (${why})`);
  jest.restoreAllMocks();
  expect(fs.readFileSync(file, 'utf8')).toBe('old');
  expect(fs.readdirSync(dir)).toEqual(['a.bin']);
});

test('temps of dead writers are removed; those of live writers and other files stay', async () => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
  const stale = `.a.bin.${dead}.0123456789ab.tmp`;
  const live = `.a.bin.${process.ppid}.ba9876543210.tmp`;
  const other = `.b.bin.${dead}.0123456789ab.tmp`;
  for (const f of [stale, live, other]) fs.writeFileSync(path.join(dir, f), 'partial');
  writeFileAtomic(path.join(dir, 'a.bin'), Buffer.from('x'));
  expect(fs.readdirSync(dir).sort()).toEqual(['a.bin', live, other].sort());
  fs.writeFileSync(path.join(dir, stale), 'partial');
  const out = await openAtomicFile(path.join(dir, 'a.bin'));
  await out.abort();
  expect(fs.readdirSync(dir).sort()).toEqual(['a.bin', live, other].sort());
});

test('openAtomicFile: the target appears only on commit; abort leaves it as it was', async () => {
  const file = path.join(dir, 'd.bin');
  fs.writeFileSync(file, 'old');
  const out = await openAtomicFile(file);
  await out.write(Buffer.from('ne'));
  await out.write(Buffer.from('w'));
  expect(fs.readFileSync(file, 'utf8')).toBe('old');
  await out.commit();
  expect(fs.readFileSync(file, 'utf8')).toBe('new');
  await out.abort(); // after commit: nothing to do
  expect(fs.readdirSync(dir)).toEqual(['d.bin']);
  await expect(out.write(Buffer.from('x'))).rejects.toThrow(/already committed or aborted/);

  const second = await openAtomicFile(file);
  await second.write(Buffer.from('partial'));
  await second.abort();
  await second.abort();
  expect(fs.readFileSync(file, 'utf8')).toBe('new');
  expect(fs.readdirSync(dir)).toEqual(['d.bin']);
  await expect(openAtomicFile(path.join(dir, 'none', 'x'))).rejects.toThrow(FileWriteError);
});

test('explainWriteError keeps unknown errors as they are', () => {
  expect(explainWriteError(Object.assign(new Error('x'), { code: 'EDQUOT' }))).toBe('disk quota exceeded (EDQUOT)');
  expect(explainWriteError(new Error('something else'))).toBe('something else');
});
