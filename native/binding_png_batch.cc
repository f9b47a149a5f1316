// SPDX-License-Identifier: MIT
// N-API surface of the serving path's PNG decoding off the event loop: one async job inflates and unfilters many
// plain PNGs (their chunks already checked in JS, lib/serve/png-batch-decoder.ts) on a libuv thread. It inflates with
// the zlib that node itself exports (node's headers ship zlib.h; the addon links no zlib of its own), so it exists only
// where the build found that header (SIMDNET_NODE_ZLIB) and never in the wasm build, which keeps the JS path.
#include <napi.h>

#include "binding.h"

#if defined(SIMDNET_NODE_ZLIB) && !defined(__EMSCRIPTEN__)
#include <zlib.h>

#include <string>
#include <vector>

#include "binding_checks.h"
#include "kernels/image/png_rows.h"

namespace simdnet {
namespace {

constexpr int64_t kMaxSide = int64_t{1} << 24;
// One image's inflated rows at most (z_stream counts in 32 bits); serving sends only small images here.
constexpr int64_t kMaxRawBytes = int64_t{1} << 30;
// A thread keeps a scratch this large between jobs at most, so one large image does not stay in memory.
constexpr size_t kKeptScratchBytes = size_t{1} << 20;
constexpr int kJobFields = 6;  // data offset, data length, width, height, bpp, color

// One zlib context per thread, reset between images (building one per image is most of a small inflate's cost).
struct ThreadInflater {
  z_stream stream{};
  bool ready = false;
  bool broken = false;
  std::vector<uint8_t> raw;
  ~ThreadInflater() {
    if (ready) inflateEnd(&stream);
  }
};

// Inflates `data` into rows that must be exactly `size` bytes (lib/data/png-inflate.ts's inflateExact: one spare byte
// of output space, and the stream must end); null for anything else.
uint8_t* inflate_exact(ThreadInflater& t, const uint8_t* data, int64_t length, int64_t size) {
  if (!t.ready && !t.broken) {
    t.ready = inflateInit(&t.stream) == Z_OK;
    t.broken = !t.ready;
  }
  if (!t.ready || inflateReset(&t.stream) != Z_OK) return nullptr;
  if (t.raw.size() < static_cast<size_t>(size + 1)) t.raw.resize(static_cast<size_t>(size + 1));
  t.stream.next_in = const_cast<Bytef*>(data);
  t.stream.avail_in = static_cast<uInt>(length);
  t.stream.next_out = t.raw.data();
  t.stream.avail_out = static_cast<uInt>(size + 1);
  const int ret = inflate(&t.stream, Z_FINISH);
  return ret == Z_STREAM_END && t.stream.avail_out == 1 ? t.raw.data() : nullptr;
}

struct PngJob {
  int64_t offset, length;
  PngRowsShape shape;
};

// Decodes the jobs into consecutive [3, height, width] blocks of `out`; ok[i] is 1 where image i decoded, 0 where its
// data did not inflate to exactly its rows or a row had an unknown filter (its block is then partly written).
class PngBatchWorker : public Napi::AsyncWorker {
 public:
  PngBatchWorker(Napi::Env env, std::vector<PngJob> jobs)
      : Napi::AsyncWorker(env, "simdnet.decodePngsAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        jobs_(std::move(jobs)) {}

  // The arrays stay referenced (and untouched by JS, by contract) until the promise settles.
  void hold(const Napi::CallbackInfo& info, float* out, uint8_t* ok, const uint8_t* data, const float* table) {
    const int args[] = {0, 1, 2, 4};  // out, ok, data, table (jobs were copied)
    for (int i = 0; i < 4; ++i) held_[i] = Napi::Persistent(info[args[i]].As<Napi::Object>());
    out_ = out;
    ok_ = ok;
    data_ = data;
    table_ = table;
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    static thread_local ThreadInflater inflater;
    float* out = out_;
    for (size_t i = 0; i < jobs_.size(); ++i) {
      const PngJob& j = jobs_[i];
      const PngRowsShape& s = j.shape;
      uint8_t* raw = inflate_exact(inflater, data_ + j.offset, j.length, s.height * (1 + s.width * s.bpp));
      ok_[i] = raw != nullptr && png_rows_to_planes_ref(out, raw, table_, s) ? 1 : 0;
      out += 3 * s.width * s.height;
    }
    if (inflater.raw.size() > kKeptScratchBytes) std::vector<uint8_t>().swap(inflater.raw);
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<PngJob> jobs_;
  Napi::ObjectReference held_[4];
  float* out_ = nullptr;
  uint8_t* ok_ = nullptr;
  const uint8_t* data_ = nullptr;
  const float* table_ = nullptr;
};

int64_t element_length(const Napi::Value& v) {
  return v.IsTypedArray() ? static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength()) : -1;
}

// decodePngsAsync(out, ok, data, jobs, table, n) -> Promise<undefined>: n plain PNGs' image data, jobs [n, 6] (offset and
// length in data, width, height, bpp, color as pngRowsToPlanes takes them), each inflated and unfiltered through
// table [3, 256] into its own [3, height, width] block of out, one after another; ok [n] says which decoded. The caller
// leaves every array unchanged until the promise settles.
Napi::Value DecodePngsAsync(const Napi::CallbackInfo& info) {
  return guarded(info, "decodePngsAsync", [&]() -> Napi::Value {
    const char* op = "decodePngsAsync";
    ArgReader a(info, op, 6);
    const int64_t n = a.size(5, "n");
    const int32_t* fields = a.i32(3, "jobs", a.mul(n, kJobFields, "jobs"), "n*6", false);
    const int64_t data_bytes = element_length(info[2]);
    std::vector<PngJob> jobs(static_cast<size_t>(n));
    int64_t floats = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t* f = fields + kJobFields * i;
      const std::string at = std::string(op) + ": jobs[" + std::to_string(i) + "]";
      PngJob& j = jobs[static_cast<size_t>(i)];
      j.offset = f[0];
      j.length = f[1];
      if (j.offset < 0 || j.length < 1 || data_bytes < 0 || j.offset + j.length > data_bytes)
        throw_range(a.env(), at + ": its data lies outside data");
      j.shape.width = f[2];
      j.shape.height = f[3];
      j.shape.bpp = f[4];
      j.shape.color = f[5] == 1;
      const PngRowsShape& s = j.shape;
      if (s.width < 1 || s.height < 1 || s.width > kMaxSide || s.height > kMaxSide)
        throw_range(a.env(), at + ": width and height must be 1 to " + std::to_string(kMaxSide));
      if (s.bpp < 1 || s.bpp > 4 || (f[5] != 0 && f[5] != 1) || s.color != (s.bpp >= 3))
        throw_range(a.env(), at + ": bpp must be 1 to 4 and color 1 exactly when bpp is 3 or 4");
      if (s.height * (1 + s.width * s.bpp) >= kMaxRawBytes) throw_range(a.env(), at + ": the image is too large");
      floats += 3 * s.width * s.height;
      if (floats > kMaxElements) throw_range(a.env(), std::string(op) + ": out is too large");
    }
    float* out = a.f32(0, "out", floats, "sum of 3*width*height", true);
    uint8_t* ok = a.u8(1, "ok", n, "n", true);
    const uint8_t* data = a.u8(2, "data", data_bytes, "its length", false);
    const float* table = a.f32(4, "table", 768, "3*256", false);
    a.check_no_aliasing();
    auto* worker = new PngBatchWorker(info.Env(), std::move(jobs));
    worker->hold(info, out, ok, data, table);
    Napi::Promise promise = worker->promise();
    worker->Queue();  // the worker deletes itself when done
    return promise;
  });
}

}  // namespace

void register_png_batch_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("decodePngsAsync", Napi::Function::New(env, DecodePngsAsync, "decodePngsAsync"));
}

}  // namespace simdnet

#else

namespace simdnet {
// Without node's zlib.h (or on wasm) there is no such export: lib/serve/png-batch-decoder.ts decodes on the event loop.
void register_png_batch_exports(Napi::Env, Napi::Object) {}
}  // namespace simdnet

#endif
