// SPDX-License-Identifier: MIT
// N-API surface of image decoding help: inflated PNG rows to planar floats (kernels/image/png_rows.h), sizes
// checked first. Registered by binding.cc through register_image_exports.
#include <napi.h>

#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "kernels/image/png_rows.h"

namespace simdnet {
namespace {

// Largest PNG side taken (the PNG format's own limit is 2^31 - 1); keeps every product below in range.
constexpr int64_t kMaxSide = int64_t{1} << 24;

// pngRowsToPlanes(out, raw, table, width, height, bpp, color) -> boolean: out [3, height, width] from the inflated
// rows raw [height, 1 + width * bpp] (unfiltered in place) through table [3, 256]; false at an unknown row filter.
Napi::Value PngRowsToPlanes(const Napi::CallbackInfo& info) {
  return guarded(info, "pngRowsToPlanes", [&]() -> Napi::Value {
    ArgReader a(info, "pngRowsToPlanes", 7);
    PngRowsShape s{};
    s.width = a.size(3, "width");
    s.height = a.size(4, "height");
    s.bpp = a.size(5, "bpp");
    const int64_t color = a.size(6, "color", 0);
    if (s.width > kMaxSide || s.height > kMaxSide) {
      throw_range(a.env(), "pngRowsToPlanes: width and height must be at most " + std::to_string(kMaxSide) + ", got " +
                               std::to_string(s.width) + "x" + std::to_string(s.height));
    }
    if (s.bpp > 4) throw_range(a.env(), "pngRowsToPlanes: bpp must be 1, 2, 3 or 4, got " + std::to_string(s.bpp));
    if (color > 1) throw_range(a.env(), "pngRowsToPlanes: color must be 0 or 1, got " + std::to_string(color));
    s.color = color == 1;
    if (s.color != (s.bpp >= 3)) {
      throw_range(a.env(), "pngRowsToPlanes: color " + std::to_string(color) + " does not fit bpp " +
                               std::to_string(s.bpp) + " (color needs 3 or 4, gray 1 or 2)");
    }
    const int64_t pixels = a.mul(s.width, s.height, "the image");
    float* out = a.f32_overwritten(0, "out", a.mul(3, pixels, "out"), "3*width*height");
    uint8_t* raw =
        a.u8(1, "raw", a.mul(s.height, 1 + a.mul(s.width, s.bpp, "raw"), "raw"), "height*(1+width*bpp)", true);
    const float* table = a.f32(2, "table", 768, "3*256", false);
    a.check_no_aliasing();
    return Napi::Boolean::New(info.Env(), png_rows_to_planes_ref(out, raw, table, s));
  });
}

}  // namespace

void register_image_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("pngRowsToPlanes", Napi::Function::New(env, PngRowsToPlanes, "pngRowsToPlanes"));
}

}  // namespace simdnet
