// SPDX-License-Identifier: MIT
// The JavaScript side of the WebAssembly build's napi shim (native/wasm/napi.h): a handle table of the
// current call's values and the typed-array copies into and out of the wasm heap. The exports it builds
// are the addon's binding functions compiled to wasm, so they check arguments exactly as the addon does.
// No Node built-ins: the browser bundle uses this file too.

/** What this file needs of the Emscripten module (build-wasm/simdnet.js). */
export interface WasmModule {
  _sn_module_init(): number;
  _sn_call(index: number, argc: number): number;
  _sn_external_finalize(box: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  stackSave(): number;
  stackRestore(sp: number): void;
  HEAPU8: Uint8Array;
  /** The threaded build's shared memory and workers (both absent in the one-thread build). */
  wasmMemory?: { buffer: ArrayBufferLike };
  PThread?: { runningWorkers: unknown[] };
}

type AnyTypedArray = Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

// napi_typedarray_type numbering, by the array's Symbol.toStringTag (which works across realms).
const TYPED_ARRAY_KINDS: Record<string, number> = {
  Int8Array: 0,
  Uint8Array: 1,
  Uint8ClampedArray: 2,
  Int16Array: 3,
  Uint16Array: 4,
  Int32Array: 5,
  Uint32Array: 6,
  Float32Array: 7,
  Float64Array: 8,
  BigInt64Array: 9,
  BigUint64Array: 10,
};
const TYPED_ARRAY_CONSTRUCTORS: Record<number, new (length: number) => AnyTypedArray> = {
  5: Int32Array,
  7: Float32Array,
  8: Float64Array,
};

// %TypedArray%.prototype getters read the internal slots, as N-API does: an own "length" property cannot lie.
const typedArrayProto = Object.getPrototypeOf(Int8Array.prototype) as object;
const getter = (name: string) => Object.getOwnPropertyDescriptor(typedArrayProto, name)!.get!;
const [taLength, taByteLength, taByteOffset, taBuffer, taTag] = [
  getter('length'),
  getter('byteLength'),
  getter('byteOffset'),
  getter('buffer'),
  Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag)!.get!,
];

/**
 * A copy of bytes [lo, hi) of one ArrayBuffer at `ptr` in the wasm heap (0 until a view of it is read), written
 * back after the call when `writeBack`: some view of it was read other than through an Array (see elementHandles)
 * or as an input (inputData: the binding's argument reader passes arrays it only reads that way). `views` counts the
 * call's views of the buffer; `copied` is false while the copy holds only the buffer's bytes before lo's alignment:
 * the region is one output the call overwrites whole (outputData).
 */
interface Region {
  buffer: ArrayBufferLike;
  lo: number;
  hi: number;
  ptr: number;
  writeBack: boolean;
  views: number;
  copied: boolean;
}

/** An Error carrying a kind the C++ side chose (napi_host.h: 0 Error, 1 TypeError, 2 RangeError). */
const ERROR_KINDS = [Error, TypeError, RangeError];
// Heap copies start at a multiple of 16 bytes of their buffer (malloc aligns to 16), so every element keeps its alignment.
const ALIGN = 16;
const EMPTY = new ArrayBuffer(0);

/** Where tests and diagnostics find the host of a wasm binding (a non-enumerable property of the binding). */
export const WASM_HOST = Symbol('simdnet.wasmHost');

export class WasmHost {
  private mod: WasmModule | null = null;
  private values: unknown[] = [undefined];
  /** Externals (napi.h's External): each JS object stands for a C++ box in the heap; only this host's count. */
  private readonly externals = new WeakMap<object, number>();
  /** Runs a box's finalizer once its object is collected (absent in engines without FinalizationRegistry). */
  private readonly finalizer =
    typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<number>((box) => this.finalize(box)) : null;
  /** Externals not yet finalized, and the bytes the C++ side said they hold (AdjustExternalMemory). */
  liveExternals = 0;
  externalMemory = 0;
  /** Values held across calls (napi.h's ObjectReference), by slot number. */
  private readonly refs = new Map<number, unknown>();
  private nextRef = 1;
  /**
   * One region per ArrayBuffer of the current call's typed arrays (arguments and Array arguments' elements),
   * spanning all of them: a view's copy keeps its overlaps with the others. Then regions for typed arrays made
   * during the call. Region objects are reused from call to call (`used` of them are live): a call allocates
   * little, so a training loop does not grow V8's young generation.
   */
  private readonly regions: Region[] = [];
  private used = 0;
  /** A Uint8Array over each whole buffer seen, for the copies without a new view per call. */
  private readonly bytesOf = new WeakMap<ArrayBufferLike, Uint8Array>();
  /**
   * Handles read from Array arguments (Array::Get): the binding only reads through them (program params,
   * snapshot sources; native/wasm/napi.h says so), so their copies need not go back after the call.
   */
  private readonly elementHandles = new Set<number>();
  private thrown: { value: unknown } | null = null;
  private failure: Error | null = null;
  private busy = false;
  /** Set when the module trapped (a bug, never bad input): its memory may be inconsistent, so refuse calls. */
  private trapped: string | null = null;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private lastString: { value: string; bytes: Uint8Array } | null = null;

  /** Runs the module's registration and returns its exports (the binding functions). */
  attach(mod: WasmModule): Record<string, unknown> {
    this.mod = mod;
    try {
      return this.values[mod._sn_module_init()] as Record<string, unknown>;
    } finally {
      this.values.length = 1;
    }
  }

  /** Workers running a thread of the module (the ops' pool threads): 0 in the one-thread build. */
  threadWorkers(): number {
    return this.mod?.PThread?.runningWorkers.length ?? 0;
  }

  // ---- calls from JS into wasm ----

  private call(index: number, name: string, args: unknown[]): unknown {
    const mod = this.mod!;
    if (this.trapped)
      throw new Error(`${name}: the simdnet WebAssembly module stopped after an earlier fault (${this.trapped})`);
    if (this.busy) throw new Error(`${name}: called from inside another simdnet call (an accessor of an argument?)`);
    this.busy = true;
    for (const a of args) this.values.push(a);
    const sp = mod.stackSave();
    let ok = false;
    try {
      this.collectSpans(args);
      const result = mod._sn_call(index, args.length);
      if (this.failure) throw this.failure;
      if (this.thrown) throw this.thrown.value;
      ok = true;
      return this.values[result];
    } catch (err) {
      // A JS exception (from a Proxy argument, say) unwinds wasm frames without their epilogues.
      mod.stackRestore(sp);
      if ((err as Error | null)?.name === 'RuntimeError') this.trapped = String(err); // a WebAssembly trap
      throw err;
    } finally {
      this.release(ok);
      this.busy = false;
    }
  }

  /** Regions per buffer of the typed arrays among the arguments and inside Array arguments (runProgram's params). */
  private collectSpans(args: unknown[]): void {
    for (const a of args) {
      this.addSpan(a);
      if (Array.isArray(a)) for (const e of a as unknown[]) this.addSpan(e);
    }
  }

  private addSpan(v: unknown): void {
    if (!ArrayBuffer.isView(v) || taTag.call(v) === undefined) return;
    const lo = taByteOffset.call(v) as number;
    const hi = lo + (taByteLength.call(v) as number);
    const buffer = taBuffer.call(v) as ArrayBufferLike;
    const r = this.find(buffer);
    if (r) {
      r.lo = Math.min(r.lo, lo);
      r.hi = Math.max(r.hi, hi);
      r.views++;
    } else this.addRegion(buffer, lo, hi);
  }

  private find(buffer: ArrayBufferLike): Region | undefined {
    for (let i = 0; i < this.used; i++) if (this.regions[i].buffer === buffer) return this.regions[i];
    return undefined;
  }

  private addRegion(buffer: ArrayBufferLike, lo: number, hi: number): Region {
    let r = this.regions[this.used];
    if (r === undefined) this.regions.push((r = { buffer, lo, hi, ptr: 0, writeBack: false, views: 1, copied: true }));
    r.buffer = buffer;
    r.lo = lo;
    r.hi = hi;
    r.ptr = 0;
    r.writeBack = false;
    r.views = 1;
    r.copied = true;
    this.used++;
    return r;
  }

  /**
   * Writes every heap copy that may have changed back into its buffer, then frees the copies. After a failed call
   * an output that was not copied in is left as it was: the call may not have written all of it.
   */
  private release(ok: boolean): void {
    const mod = this.mod!;
    for (let i = 0; i < this.used; i++) {
      const r = this.regions[i];
      if (r.ptr !== 0) {
        if (r.writeBack && (ok || r.copied))
          this.bytes(r.buffer).set(this.heap().subarray(r.ptr, r.ptr + r.hi - r.lo), r.lo);
        mod._free(r.ptr);
      }
      r.buffer = EMPTY; // do not keep the call's buffers alive
    }
    this.used = 0;
    this.elementHandles.clear();
    this.values.length = 1;
    this.thrown = null;
    this.failure = null;
    this.lastString = null;
  }

  private bytes(buffer: ArrayBufferLike): Uint8Array {
    let view = this.bytesOf.get(buffer);
    if (view === undefined || view.byteLength < buffer.byteLength) {
      view = new Uint8Array(buffer);
      this.bytesOf.set(buffer, view);
    }
    return view;
  }

  /**
   * Copies the region into the heap, or with `copy` false only its bytes before r.lo that the alignment takes in
   * (they go back with the rest after the call); false when the heap is full.
   */
  private map(r: Region, copy: boolean): boolean {
    const mod = this.mod!;
    const start = r.lo;
    r.lo -= r.lo % ALIGN; // heap copies start at a multiple of 16 bytes of their buffer
    const ptr = mod._malloc(Math.max(r.hi - r.lo, 1));
    if (ptr === 0) return false;
    this.heap().set(this.bytes(r.buffer).subarray(r.lo, copy ? r.hi : start), ptr);
    r.ptr = ptr;
    r.copied = copy;
    return true;
  }

  private push(v: unknown): number {
    this.values.push(v);
    return this.values.length - 1;
  }

  /**
   * The heap's bytes. In the threaded build a pool thread may have grown the memory, and only the thread that
   * grows it refreshes the glue's views: the main thread's HEAPU8 then ends at the old size.
   */
  private heap(): Uint8Array {
    const mod = this.mod!;
    if (mod.wasmMemory !== undefined && mod.HEAPU8.buffer !== mod.wasmMemory.buffer)
      mod.HEAPU8 = new Uint8Array(mod.wasmMemory.buffer);
    return mod.HEAPU8;
  }

  private utf8(ptr: number, len: number): string {
    const bytes = this.heap().subarray(ptr, ptr + len);
    // TextDecoder refuses views of a SharedArrayBuffer (the threaded build's memory).
    return this.decoder.decode(bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice());
  }

  private cString(ptr: number): string {
    const heap = this.heap();
    let end = ptr;
    while (heap[end] !== 0) end++;
    return this.utf8(ptr, end - ptr);
  }

  private finalize(box: number): void {
    this.liveExternals--;
    // A trapped module's memory may be inconsistent: leave the box alone.
    if (!this.trapped) this.mod!._sn_external_finalize(box);
  }

  // ---- imports called by the wasm code (native/wasm/napi_host.h) ----

  type(h: number): number {
    const v = this.values[h];
    if (v === null) return 1;
    if (this.externals.has(v as object)) return 8;
    switch (typeof v) {
      case 'undefined':
        return 0;
      case 'boolean':
        return 2;
      case 'number':
        return 3;
      case 'string':
        return 4;
      case 'symbol':
        return 5;
      case 'function':
        return 7;
      case 'bigint':
        return 9;
      default:
        return 6;
    }
  }

  typedArrayType(h: number): number {
    const v = this.values[h];
    if (!ArrayBuffer.isView(v)) return -1;
    return TYPED_ARRAY_KINDS[taTag.call(v) as string] ?? -1;
  }

  isArray(h: number): number {
    return Array.isArray(this.values[h]) ? 1 : 0;
  }

  isArrayBuffer(h: number): number {
    return Object.prototype.toString.call(this.values[h]) === '[object ArrayBuffer]' ? 1 : 0;
  }

  length(h: number): number {
    const v = this.values[h];
    return Array.isArray(v) ? v.length : (taLength.call(v) as number);
  }

  byteLength(h: number): number {
    return taByteLength.call(this.values[h]) as number;
  }

  data(h: number): number {
    return this.mapData(h, !this.elementHandles.has(h), false);
  }

  /** data() for an argument the call only reads (ArgReader's inputs): its copy need not go back after the call. */
  inputData(h: number): number {
    return this.mapData(h, false, false);
  }

  /** data() for an argument the call overwrites whole before reading it (ArgReader's f32_overwritten). */
  outputData(h: number): number {
    return this.mapData(h, true, true);
  }

  /**
   * The heap address of the typed array `h`'s bytes, copied in with its region; `written` marks that region for
   * write-back. With `overwritten`, the bytes are not copied in when the region is this view alone (no other view of
   * the call shares its buffer, so none reads them), as the call replaces them all.
   */
  private mapData(h: number, written: boolean, overwritten: boolean): number {
    const v = this.values[h];
    const bytes = taByteLength.call(v) as number;
    if (bytes === 0) return 0;
    const buffer = taBuffer.call(v) as ArrayBufferLike;
    const lo = taByteOffset.call(v) as number;
    let region = this.find(buffer);
    // A typed array made during the call (or reached otherwise): a region of its own.
    if (!region || lo < region.lo || lo + bytes > region.hi) region = this.addRegion(buffer, lo, lo + bytes);
    if (region.ptr === 0) {
      const alone = overwritten && region.views === 1 && region.lo === lo && region.hi === lo + bytes;
      if (!this.map(region, !alone)) {
        this.failure ??= new RangeError(`simdnet: out of WebAssembly memory for an argument of ${bytes} bytes`);
        return 0;
      }
    } else if (!region.copied) {
      // Reached again (a view the spans did not count, such as an Array's inside an Array): copy it in after all,
      // before the call has written anything (the argument reader reads every argument first).
      this.heap().set(this.bytes(buffer).subarray(region.lo, region.hi), region.ptr);
      region.copied = true;
    }
    if (written) region.writeBack = true;
    return region.ptr + lo - region.lo;
  }

  number(h: number): number {
    return this.values[h] as number;
  }

  stringLength(h: number): number {
    const value = this.values[h] as string;
    this.lastString = { value, bytes: this.encoder.encode(value) };
    return this.lastString.bytes.length;
  }

  stringRead(h: number, buf: number, len: number): void {
    const value = this.values[h] as string;
    const bytes = this.lastString?.value === value ? this.lastString.bytes : this.encoder.encode(value);
    this.heap().set(bytes.subarray(0, len), buf);
  }

  getIndex(h: number, i: number): number {
    const element = this.push((this.values[h] as unknown[])[i]);
    this.elementHandles.add(element);
    return element;
  }

  undef(): number {
    return 0;
  }

  newNumber(v: number): number {
    return this.push(v);
  }

  newBool(v: number): number {
    return this.push(v !== 0);
  }

  newString(ptr: number, len: number): number {
    return this.push(this.utf8(ptr, len));
  }

  newObject(): number {
    return this.push({});
  }

  newArray(): number {
    return this.push([]);
  }

  newTypedArray(type: number, length: number): number {
    return this.push(new TYPED_ARRAY_CONSTRUCTORS[type](length));
  }

  newError(kind: number, ptr: number, len: number): number {
    return this.push(new ERROR_KINDS[kind](this.utf8(ptr, len)));
  }

  newFunction(index: number, namePtr: number): number {
    const name = this.cString(namePtr);
    const fn = (...args: unknown[]) => this.call(index, name, args);
    Object.defineProperty(fn, 'name', { value: name });
    return this.push(fn);
  }

  newDeferred(): number {
    let settle!: { resolve: (v: unknown) => void; reject: (v: unknown) => void };
    const promise = new Promise((resolve, reject) => (settle = { resolve, reject }));
    return this.push({ promise, ...settle });
  }

  deferredPromise(d: number): number {
    return this.push((this.values[d] as { promise: Promise<unknown> }).promise);
  }

  deferredSettle(d: number, resolve: number, value: number): void {
    const deferred = this.values[d] as { resolve: (v: unknown) => void; reject: (v: unknown) => void };
    (resolve ? deferred.resolve : deferred.reject)(this.values[value]);
  }

  setNamed(obj: number, keyPtr: number, value: number): void {
    (this.values[obj] as Record<string, unknown>)[this.cString(keyPtr)] = this.values[value];
  }

  setIndex(arr: number, i: number, value: number): void {
    (this.values[arr] as unknown[])[i] = this.values[value];
  }

  newExternal(box: number): number {
    // Like N-API's externals: an object with no prototype and no properties.
    const external = Object.freeze(Object.create(null) as object);
    this.externals.set(external, box);
    this.finalizer?.register(external, box);
    this.liveExternals++;
    return this.push(external);
  }

  externalBox(h: number): number {
    return this.externals.get(this.values[h] as object) ?? 0;
  }

  /** References still held by C++ objects (0 between calls unless something leaks one). */
  liveReferences(): number {
    return this.refs.size;
  }

  refNew(h: number): number {
    this.refs.set(this.nextRef, this.values[h]);
    return this.nextRef++;
  }

  refValue(ref: number): number {
    return this.push(this.refs.get(ref));
  }

  refDelete(ref: number): void {
    this.refs.delete(ref);
  }

  adjustExternalMemory(change: number): number {
    this.externalMemory += change;
    return this.externalMemory;
  }

  throwError(error: number): void {
    this.thrown = { value: this.values[error] };
  }
}
