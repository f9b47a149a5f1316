// SPDX-License-Identifier: MIT
// Direct stride-1 convolution of one zero-padded image, vectorised along output rows: no im2col,
// which for few input channels (LeNet's conv1) costs more than the multiply-adds themselves.
#pragma once
#include <cstdint>

namespace simdnet {

// Floats a padded input or padded gradient buffer needs after its last row: kernels read whole
// vectors, up to 4 AVX-512 vectors past a row's last tap.
constexpr int64_t kDirectSlack = 64;

struct DirectConvArgs {
  int64_t c, hp, wp;      // padded input [c, hp, wp] (+ kDirectSlack floats)
  int64_t oc, kh, kw;     // output channels, kernel
  int64_t oh, ow;         // output [oc, oh, ow]; oh = hp - kh + 1, ow = wp - kw + 1
  const float* inp;
  const float* wpack;     // weights k-major: wpack[(ci*kh + ky)*kw + kx][o], [c*kh*kw, oc]
  const float* bias;      // [oc] or null
  float* out;             // written (=), or added to when accumulate
  bool accumulate;
  bool relu;              // max(., 0) after bias (not with accumulate)
};

// dW [oc, c, kh, kw] += correlation of the padded input with dout [oc, oh, ow], where dout is given
// with row stride ldd >= ow and zeros in columns ow..ldd-1 (so whole vectors can be read).
struct DirectDweightArgs {
  int64_t c, hp, wp, oc, kh, kw, oh, ow, ldd;
  const float* inp;
  const float* dout;
  float* dw;
};

#define SN_DECLARE_DIRECT(isa)                                     \
  namespace isa {                                                  \
  void conv2d_direct_forward(const DirectConvArgs& a);             \
  void conv2d_direct_dweight(const DirectDweightArgs& a);          \
  }
SN_DECLARE_DIRECT(avx2)
SN_DECLARE_DIRECT(avx512)
SN_DECLARE_DIRECT(neon)
#undef SN_DECLARE_DIRECT

}  // namespace simdnet
