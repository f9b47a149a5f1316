// SPDX-License-Identifier: MIT
// Reads and writes the safetensors format (float32 tensors + string metadata); knows nothing of models.
//
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON header (padded with spaces to a
// multiple of 8), then the raw little-endian tensor data. We write exactly what the reference
// implementation (huggingface/safetensors, serialize()) writes for F32 tensors: names in byte order,
// data contiguous with no gaps, compact JSON. Metadata keys are sorted (the reference's order is a
// hash map's, so any order is valid; sorted keeps our files reproducible byte for byte).
import * as fs from 'fs';
import { describe } from '../check';
import { FileFormatError } from '../errors';
import { Tensor } from '../tensor/tensor';
import { writeFileAtomic } from './atomic-file';

/** What a safetensors file holds: its tensors by name and its `__metadata__` strings ({} if absent). */
export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of every dtype the format defines; others are rejected as unknown. */
const DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];
/** Same cap as the reference reader: a real header is kilobytes; refuse to parse 100 MB of JSON. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
/** float32 holds every integer in [-2^24, 2^24]; I64 tensors must stay inside. */
const I64_EXACT = 2n ** 24n;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Writing

interface Plan {
  header: Buffer; // 8-byte length + padded JSON
  tensors: Tensor[]; // in file order
  dataBytes: number;
}

/** Byte-wise UTF-8 order, as Rust's String Ord sorts names (JS '<' compares UTF-16 units). */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Validates the arguments and builds the header; touches no file. */
function plan(what: string, dict: Record<string, Tensor>, metadata?: Record<string, string>): Plan {
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    throw new TypeError(`${what}: tensors must be an object of name -> Tensor, got ${describe(dict)}`);
  }
  const names = Object.keys(dict).sort(compareUtf8);
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new TypeError(`${what}: metadata must be an object of string -> string, got ${describe(metadata)}`);
    }
    const items = Object.keys(metadata)
      .sort(compareUtf8)
      .map((k) => {
        const v = metadata[k];
        if (typeof v !== 'string') throw new TypeError(`${what}: metadata "${k}" must be a string, got ${describe(v)}`);
        return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
      });
    parts.push(`"${METADATA_KEY}":{${items.join(',')}}`);
  }
  const tensors: Tensor[] = [];
  let offset = 0;
  for (const name of names) {
    const t = dict[name];
    if (!(t instanceof Tensor)) throw new TypeError(`${what}: "${name}" must be a Tensor, got ${describe(t)}`);
    if (name === METADATA_KEY) throw new RangeError(`${what}: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    const end = offset + t.data.byteLength;
    // Built by hand, not JSON.stringify(object): objects enumerate integer-like keys ("10") first.
    parts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape: [...t.shape], data_offsets: [offset, end] })}`,
    );
    tensors.push(t);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = json.length + ((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, tensors, dataBytes: offset };
}

/** The little-endian bytes of a tensor: a view of its memory (no copy) on little-endian hosts. */
function tensorBytes(t: Tensor): Uint8Array {
  const d = t.data;
  if (LITTLE_ENDIAN) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(d.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.length; i++) view.setFloat32(4 * i, d[i], true);
  return out;
}

/**
 * Serializes tensors (and optional string metadata) to safetensors bytes in memory.
 * Tensors are stored as F32 in byte-sorted name order; `metadata` becomes `__metadata__`.
 * @throws TypeError if a value is not a Tensor or a metadata value is not a string;
 *   RangeError if a tensor is named `__metadata__`.
 */
export function encodeSafetensors(dict: Record<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const p = plan('encodeSafetensors', dict, metadata);
  const out = Buffer.allocUnsafe(p.header.length + p.dataBytes);
  p.header.copy(out, 0);
  let pos = p.header.length;
  for (const t of p.tensors) {
    out.set(tensorBytes(t), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes tensors (and optional string metadata) to a safetensors file, atomically (lib/io/atomic-file.ts): the
 * bytes go to a temporary file in the same folder, which is fsynced and then renamed over `file`. On any failure
 * the temporary file is removed and an existing `file` is left untouched. Temporary files that
 * earlier writers of `file` left when they were killed mid-write are deleted first.
 * Tensor data is written straight from each tensor's memory, without an intermediate buffer.
 * @param file Destination path; its folder must exist.
 * @param dict Tensors by name (PyTorch state-dict names for weights files).
 * @param metadata Strings stored under `__metadata__`, e.g. `{ format: 'pt' }`.
 * @throws TypeError/RangeError for bad arguments (before any file is created); FileWriteError naming `file`
 *   (with the errno `code`: ENOSPC, EROFS, EACCES...) when the disk refuses.
 * @example
 * saveSafetensors('lenet.safetensors', model.stateDict(), { format: 'pt' });
 */
export function saveSafetensors(file: string, dict: Record<string, Tensor>, metadata?: Record<string, string>): void {
  if (typeof file !== 'string' || file === '')
    throw new TypeError(`saveSafetensors: path must be a non-empty string, got ${describe(file)}`);
  const p = plan('saveSafetensors', dict, metadata);
  writeFileAtomic(file, [p.header, ...p.tensors.map(tensorBytes)]);
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The first key that appears twice in one JSON object of `text`, if any. JSON.parse silently keeps
 * the last duplicate, which would let two readers of the same file see different tensors.
 * `text` must already be valid JSON, so strings and brackets can be scanned without a full parser.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []; // one entry per open object (Set) or array (null)
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (text[k] === ' ' || text[k] === '\t' || text[k] === '\n' || text[k] === '\r') k++;
      if (text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string; // decode escapes: "\u0061" == "a"
        const seen = stack[stack.length - 1] as Set<string>;
        if (seen.has(key)) return key;
        seen.add(key);
      }
      i = j;
    }
  }
  return undefined;
}

function parseEntry(fail: (d: string) => FileFormatError, name: string, v: unknown, dataBytes: number): Entry {
  const where = `tensor "${name}"`;
  if (!isObject(v)) throw fail(`${where}: header entry must be an object, got ${JSON.stringify(v)}`);
  for (const k of Object.keys(v)) {
    if (!ENTRY_KEYS.includes(k)) throw fail(`${where}: unknown key "${k}" (expected ${ENTRY_KEYS.join(', ')})`);
  }
  for (const k of ENTRY_KEYS) if (!(k in v)) throw fail(`${where}: missing "${k}"`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZES))
    throw fail(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape)) throw fail(`${where}: shape must be an array, got ${JSON.stringify(shape)}`);
  let count = 1;
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw fail(`${where}: shape[${i}] is ${JSON.stringify(d)}, expected an integer >= 0`);
    }
    count *= d;
  });
  if (shape.includes(0)) count = 0; // Infinity * 0 would be NaN for absurd shapes with a 0 in them
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw fail(`${where}: data_offsets must be two integers >= 0, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) throw fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) {
    throw fail(
      `${where}: data_offsets [${begin}, ${end}] are out of range: the data section has ${dataBytes} bytes (truncated file?)`,
    );
  }
  const want = count * DTYPE_SIZES[dtype];
  if (end - begin !== want) {
    throw fail(
      `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} shape [${shape.join(', ')}] needs ${want}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Checks that the tensors tile the data section exactly, as the reference reader demands. */
function checkLayout(fail: (d: string) => FileFormatError, entries: Entry[], dataBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (prev && e.begin < pos) {
      throw fail(
        `tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev.name}" [${prev.begin}, ${prev.end}]`,
      );
    }
    if (e.begin > pos) throw fail(`data bytes ${pos}..${e.begin} belong to no tensor (gap before "${e.name}")`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataBytes) throw fail(`the last ${dataBytes - pos} data bytes belong to no tensor`);
}

/** Copies `count` values into a fresh (hence aligned) Float32Array; file offsets may be unaligned. */
function readValues(buf: Uint8Array, at: number, count: number, dtype: string): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32' && LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(buf.subarray(at, at + 4 * count));
    return out;
  }
  const view = new DataView(buf.buffer, buf.byteOffset + at, buf.byteLength - at);
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'F64')
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true); // rounded to nearest float32
  else for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true)); // I64: checked by inexactI64
  return out;
}

/**
 * The first I64 value (and its index) of a tensor beyond +-2^24, where float32 stops holding every integer, if any.
 * Checked on the 64-bit integers themselves: after rounding to float32, 2^24 + 1 would pass as 2^24.
 */
function inexactI64(buf: Uint8Array, at: number, count: number): [bigint, number] | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset + at, 8 * count);
  for (let i = 0; i < count; i++) {
    const v = view.getBigInt64(8 * i, true);
    if (v > I64_EXACT || v < -I64_EXACT) return [v, i];
  }
  return undefined;
}

/**
 * Parses safetensors bytes. Every tensor must be F32, F64 (converted to float32, rounding to nearest) or
 * I64 with values float32 holds exactly (PyTorch's BatchNorm num_batches_tracked);
 * any other dtype is an error naming the tensor. Values are copied once into new Float32Arrays, so
 * the result does not keep `buf` alive.
 * @param buf The whole file.
 * @param name Names the source in error messages (the loaders pass the file path).
 * @throws FileFormatError naming `name` and the problem for a truncated, malformed or hostile file:
 *   header length past the end, invalid UTF-8 or JSON, duplicate or unknown keys, bad dtype or shape,
 *   offsets out of range, overlapping, leaving gaps or not matching the shape.
 */
export function decodeSafetensors(buf: Uint8Array, name = '<buffer>'): SafetensorsContents {
  const fail = (detail: string) => new FileFormatError(name, detail);
  if (!(buf instanceof Uint8Array))
    throw new TypeError(`decodeSafetensors: buf must be a Buffer or Uint8Array, got ${describe(buf)}`);
  if (buf.length < 8)
    throw fail(`${buf.length} bytes is too short for a safetensors file (needs an 8-byte header length)`);
  const n64 = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(buf.length - 8)) {
    throw fail(
      `header length ${n64} is larger than the ${buf.length - 8} bytes that follow it (truncated, or not a safetensors file)`,
    );
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) throw fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, 8 + n));
  } catch {
    throw fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(header)) throw fail('header must be a JSON object');
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw fail(`header has the key ${JSON.stringify(dup)} twice`);

  // Null prototypes: a hostile file may name a tensor "__proto__" or "constructor".
  const metadata: Record<string, string> = Object.create(null);
  const meta = header[METADATA_KEY];
  if (meta !== undefined) {
    if (!isObject(meta)) throw fail(`${METADATA_KEY} must be an object of strings, got ${JSON.stringify(meta)}`);
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== 'string') throw fail(`${METADATA_KEY} "${k}" must be a string, got ${JSON.stringify(v)}`);
      metadata[k] = v;
    }
  }
  const dataStart = 8 + n;
  const dataBytes = buf.length - dataStart;
  const entries = Object.keys(header)
    .filter((k) => k !== METADATA_KEY)
    .map((k) => parseEntry(fail, k, header[k], dataBytes));
  checkLayout(fail, entries, dataBytes);

  const tensors: Record<string, Tensor> = Object.create(null);
  for (const e of entries.sort((a, b) => a.begin - b.begin)) {
    if (e.dtype !== 'F32' && e.dtype !== 'F64' && e.dtype !== 'I64') {
      throw fail(
        `tensor "${e.name}" has dtype ${e.dtype}; simdnet reads F32 (and F64 or I64, converted) only: save it as float32 (tensor.float() in PyTorch)`,
      );
    }
    const count = (e.end - e.begin) / DTYPE_SIZES[e.dtype];
    // I64 (PyTorch's BatchNorm num_batches_tracked) is accepted only where float32 holds it exactly.
    const inexact = e.dtype === 'I64' ? inexactI64(buf, dataStart + e.begin, count) : undefined;
    if (inexact !== undefined) {
      throw fail(
        `tensor "${e.name}" holds the I64 value ${inexact[0]} (at index ${inexact[1]}) beyond 2^24: float32 cannot hold every integer there`,
      );
    }
    const values = readValues(buf, dataStart + e.begin, count, e.dtype);
    tensors[e.name] = new Tensor(values, e.shape);
  }
  return { tensors, metadata };
}

/**
 * Reads a safetensors file: its tensors and its `__metadata__` strings.
 * @throws FileFormatError (message starts with the path) for a malformed file; fs errors (ENOENT...) as thrown by Node.
 * @example
 * const { tensors, metadata } = readSafetensors('lenet.safetensors');
 */
export function readSafetensors(file: string): SafetensorsContents {
  return decodeSafetensors(fs.readFileSync(file), file);
}

/**
 * Reads the tensors of a safetensors file (see readSafetensors for the metadata too).
 * @example
 * model.loadStateDict(loadSafetensors('lenet.safetensors'));
 */
export function loadSafetensors(file: string): Record<string, Tensor> {
  return readSafetensors(file).tensors;
}
