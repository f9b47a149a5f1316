// SPDX-License-Identifier: MIT
// Inflating a small PNG's image data without building a zlib stream per call. zlib.inflateSync makes a Transform
// stream and a native zlib context for every call and closes them after: on a 32x32 PNG that was about half of its
// 24 µs (docs/serving.md). Here one native context is kept and reset between calls, through the handle node's own
// zlib.js drives (`_handle.writeSync`, `_handle.reset`, `_writeState`). Where the running node has no such handle,
// inflateSync is used, with the same results.
import * as zlib from 'zlib';

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

/** The kept context, its [availOut, availIn] after each write, and whether the last write failed. */
interface Inflater {
  handle: ZlibHandle;
  state: Uint32Array;
  failed: boolean;
}

let inflater: Inflater | null | undefined; // undefined: not made yet; null: this node has no usable handle
/** Output space reused between calls (the caller consumes the bytes before its next call). */
let scratch = Buffer.alloc(0);
/** Larger outputs get their own buffer, so a large image does not stay in memory after its request. */
const MAX_SCRATCH_BYTES = 1 << 20;

function makeInflater(): Inflater | null {
  const engine = new zlib.Inflate() as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
  const handle = engine._handle;
  const state = engine._writeState;
  if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function') return null;
  if (!(state instanceof Uint32Array) || state.length < 2) return null;
  const it: Inflater = { handle: handle as ZlibHandle, state, failed: false };
  // Node's handler would destroy the stream (and close the context); a failed call only marks the result.
  it.handle.onerror = () => {
    it.failed = true;
  };
  return it;
}

/**
 * The bytes the zlib stream `data` inflates to when they are exactly `size` bytes, else null (an invalid or truncated
 * stream, or one that inflates to more or fewer bytes). Bytes after the end of the stream are ignored, as inflateSync
 * ignores them. The result may be a view of a buffer the next call overwrites: use it before calling again.
 *
 * @example
 * const raw = inflateExact(idat, header.inflatedBytes); // Buffer of header.inflatedBytes, or null
 */
export function inflateExact(data: Uint8Array, size: number): Buffer | null {
  if (inflater === undefined) inflater = makeInflater();
  if (inflater === null) return inflateExactSlow(data, size);
  const out = size < MAX_SCRATCH_BYTES ? scratchOf(size + 1) : Buffer.allocUnsafe(size + 1);
  const it = inflater;
  it.failed = false;
  it.handle.reset();
  // One spare byte: a stream that fills it inflates to more than `size`.
  it.handle.writeSync(zlib.constants.Z_FINISH, data, 0, data.length, out, 0, size + 1);
  if (it.failed || it.state[0] !== 1) return null;
  return out.subarray(0, size);
}

/** inflateExact through zlib.inflateSync: where node has no reusable handle (exported for the tests). */
export function inflateExactSlow(data: Uint8Array, size: number): Buffer | null {
  try {
    const raw = zlib.inflateSync(data, { maxOutputLength: Math.max(1, size) });
    return raw.length === size ? raw : null;
  } catch {
    return null;
  }
}

function scratchOf(bytes: number): Buffer {
  if (scratch.length < bytes)
    scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH_BYTES, Math.max(bytes, 2 * scratch.length)));
  return scratch;
}
