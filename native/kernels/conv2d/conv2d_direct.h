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
  int64_t c, hp, wp;   // padded input [c, hp, wp] (+ kDirectSlack floats)
  int64_t oc, kh, kw;  // output channels, kernel
  int64_t oh, ow;      // output [oc, oh, ow]; oh = hp - kh + 1, ow = wp - kw + 1
  const float* inp;
  const float* wpack;  // weights k-major: wpack[(ci*kh + ky)*kw + kx][o], [c*kh*kw, oc]
  const float* bias;   // [oc] or null
  float* out;          // written (=), or added to when accumulate
  bool accumulate;
  bool relu;              // max(., 0) after bias (not with accumulate)
  int64_t out_plane = 0;  // out's channel stride when out is a band of rows of larger planes; 0: oh * ow
  // [c * kh * kw] or null: each tap's input offset from its output row's first input, (ci * hp + ky) * wp + kx.
  // When given, a tile runs one loop over all taps instead of three nested ones (the same sums in the same order).
  const int64_t* tap_offset = nullptr;
  // With tap_offset: input rows outside [row_lo, row_hi) are zero padding, and the taps that read them (0 * w) are
  // skipped (the same sums unless a weight is infinite or NaN); row_hi 0: no such rows.
  int64_t row_lo = 0, row_hi = 0;
  int64_t plane() const { return out_plane != 0 ? out_plane : oh * ow; }
};

// dW [oc, c, kh, kw] += correlation of the padded input with dout [oc, oh, ow], where dout is given
// with row stride ldd >= ow and zeros in columns ow..ldd-1 (so whole vectors can be read).
struct DirectDweightArgs {
  int64_t c, hp, wp, oc, kh, kw, oh, ow, ldd;
  const float* inp;
  const float* dout;
  float* dw;
  // [c * kh * kw] or null: tap t's input starts at inp + tap_offset[t] instead of its place in the padded layout
  // (the flattened layout on wasm: oh 1, ow the image's pixels).
  const int64_t* tap_offset = nullptr;
  int64_t dout_stride = 0;  // floats between dout's channels; 0: oh * ldd
};

// Channel-vectorised direct conv (any stride and dilation): vectors run along the output
// channels, each input value is broadcast once per tap to a tile of pixels. For convs with many
// output channels and narrow rows (LeNet conv2: 16 channels, 10-wide rows).
// Pixel p of the output reads the padded input at base[p] + offset[tap], so the kernels take
// those two tables instead of the geometry.
struct ChannelConvArgs {
  int64_t pixels, taps, oc, ocp;  // ocp: oc rounded up to whole vectors (row length of wpack)
  int64_t oh, ow;                 // pixels = oh * ow
  bool unit_stride;               // base[p + 1] = base[p] + 1 within an output row
  const float* inp;               // padded input of one image
  const int64_t* base;            // [pixels]
  const int64_t* offset;          // [taps]
  const float* wpack;             // [taps, ocp], zero in columns >= oc
  const float* bias;              // [oc] or null
  float* out;                     // [oc, pixels], written
  bool relu;
  int64_t out_plane = 0;  // out's channel stride when out is a band of rows of larger planes; 0: pixels
  int64_t plane() const { return out_plane != 0 ? out_plane : pixels; }
};

// dWt [taps, ocp] += sum over pixels of input(base[p] + offset[t]) * doutT[p, :], where doutT is
// the output gradient transposed to [pixels, ocp] with zeros in columns >= oc.
struct ChannelDweightArgs {
  int64_t pixels, taps, ocp;
  const float* inp;
  const int64_t* base;
  const int64_t* offset;
  const float* dout_t;
  float* dwt;
};

// Winograd F(2x2, 3x3) forward of a 3x3 stride-1 conv for a band of th x tw output tiles of 2 x 2 pixels: every
// output is A^T [sum over c of U(c) . V(c)] A with V = B^T d B of its 4 x 4 input patch d and U = G g G^T of the
// weights, so 16 multiply-adds per channel pair give 4 outputs instead of 36. The 16 sums over c are GEMMs on the
// channel tiles' blocking; each output is one fixed sequence of operations, whatever the band or batch.
struct WinogradArgs {
  int64_t c, oc, ocp;  // channels; ocp: oc rounded up to whole vectors
  int64_t th, tw;      // tiles of the band: output rows 2 * th, columns 2 * tw (tw is 4, 8 or 16)
  const float* inp;    // padded input rows of the band [c, 2 * th + 2, wp] (+ kDirectSlack zeros)
  int64_t wp;          // its row length: at least 2 * tw rounded up to whole vectors, plus a vector
  const float* u;      // transformed weights [16, c, ocp], zero in columns >= oc
  const float* bias;   // [oc] or null
  float* out;          // the band's first output row; channel stride plane, row stride 2 * tw
  int64_t plane;
  bool relu;
  bool add;  // out += the result (an accumulated input gradient) instead of out = it
  float* v;  // scratch: 16 * c * winograd_channel_floats(block rows) floats (transformed input)
  float* m;  // scratch: block tiles * 16 * ocp floats (the GEMMs' sums)
  // h > 0 (where tw is a multiple of the vector lanes, or a half or a quarter of them): inp is the unpadded image
  // [c, h, 2 * tw] instead, and padded row r of the band is its row row0 + r (zeros outside [0, h)); wp is then unused.
  int64_t h;
  int64_t row0;
  // 4: F(4x4, 3x3) instead (conv2d_winograd4_impl.inc): tiles of 4 x 4 outputs (th, tw count those; tw is the vector
  // lanes, a half or a quarter of them), inp always the unpadded image (h > 0), u and v hold 36 positions (not 16), m
  // (block tiles rounded up to 4) * 36 * ocp floats.
  int tile = 2;
  // F(4x4) only: `images` whole images of th tile rows each (th * tw < 16), the k-th at inp + k * in_image and
  // out + k * out_image, taken as one stack of images * th tile rows so that a vector of tiles and a GEMM block span
  // several images (an 8 x 8 plane is 4 tiles; winograd_group_block_rows gives the block).
  int64_t images = 1, in_image = 0, out_image = 0;
};

// Tile rows per block of the Winograd kernel (about 16 tiles, at most th), and the floats per channel of its
// transformed input for a block of rb tile rows (its tiles rounded up to whole vectors): the op sizes the scratch
// from these.
inline int64_t winograd_block_rows(int64_t th, int64_t tw) {
  const int64_t r = tw >= 16 ? 1 : 16 / tw;
  return r < th ? r : th;
}
// Tile rows per block of a stack of images of th tile rows (WinogradArgs::images): whole images, about 16 tiles.
inline int64_t winograd_group_block_rows(int64_t th, int64_t tw, int64_t images) {
  const int64_t per_block = th * tw >= 16 ? 1 : 16 / (th * tw);
  return th * (per_block < images ? per_block : images);
}
inline int64_t winograd_channel_floats(int64_t rb, int64_t tw, int64_t lanes) {
  return (rb * tw + lanes - 1) / lanes * lanes;
}

// Winograd F(2x2, 3x3) weight gradient of a 3x3 stride-1 padding-1 conv: the forward's output is linear in
// U = G g G^T, so dW(o, c) = G^T M(c, o) G with M(c, o) = the sum over tiles of V(c) . D(o), V = B^T d B of the tile's
// 4 x 4 input patch (the forward's input transform) and D = A dY A^T of its 2 x 2 output gradient dY (A^T the
// forward's output transform): 16 multiply-adds per tile and channel pair instead of 36. The 16 sums are GEMMs over
// the tiles (M = c, N = oc, K = tiles). One call takes a chunk of tiles: pieces of `rows` tile rows (whole images, or
// a band of one), transformed in order, at most kWinogradChunkTiles tiles with each piece's count rounded up to whole
// vectors. With tile 4 the same by F(4x4, 3x3) (conv2d_winograd4_dweight_impl.inc): 36 per 4 x 4 outputs.
constexpr int64_t kWinogradChunkTiles = 64;
// Up to 16 pieces: an 8 x 8 plane is 4 F(4x4) tiles, so 16 whole images fill a chunk (transformed as one stack).
constexpr int kWinogradMaxPieces = 16;
// F(4x4)'s v keeps each channel's chunk of tiles kWinograd4Channel floats apart: the input transform writes whole
// vectors (up to 16 lanes), past a piece's last tile when its tile rows do not fill one.
constexpr int64_t kWinograd4Channel = kWinogradChunkTiles + 16;
struct WinogradDweightArgs {
  int64_t c, oc, ocp;                     // channels; ocp: oc rounded up to whole vectors
  int tile;                               // 2: F(2x2, 3x3); 4: F(4x4, 3x3)
  int64_t th, tw;                         // tile rows and columns of an image (tw is 2-16)
  int64_t rows;                           // tile rows of each piece
  int64_t pieces;                         // 1 .. kWinogradMaxPieces
  const float* inp[kWinogradMaxPieces];   // each piece's image, padded [c, 2 * th + 2, wp] (+ kDirectSlack), or h
  const float* dout[kWinogradMaxPieces];  // each piece's image of dout [oc, tile * th, tile * tw]
  int64_t ty0[kWinogradMaxPieces];        // each piece's first tile row
  int64_t wp;
  int64_t h;   // > 0: inp are unpadded images [c, h, tile * tw] (as WinogradArgs' h, with row0 -1); F(4x4): always
  bool first;  // m = the chunk's sums (a block's first chunk) instead of m += them
  bool last;   // then dwt = G^T m G (a block's last chunk)
  float* m;    // [16, c, ocp] (F(4x4): [36, c, ocp]): the block's sums so far
  float* dwt;  // [c * 9, ocp], tap-major as the channel weight gradient's: written with last
  float* v;    // scratch: 16 * c * kWinogradChunkTiles floats (F(4x4): 36 * c * kWinograd4Channel)
  float* d;    // scratch: 20 * kWinogradChunkTiles * ocp floats (F(4x4): 52 *): dout transposed, then transformed

  int64_t in_image;  // floats between consecutive images (F(4x4)'s whole-image pieces are consecutive: one stack)
};

#define SN_DECLARE_DIRECT(isa)                                \
  namespace isa {                                             \
  void conv2d_direct_forward(const DirectConvArgs& a);        \
  void conv2d_direct_dweight(const DirectDweightArgs& a);     \
  void conv2d_channel_forward(const ChannelConvArgs& a);      \
  void conv2d_channel_dweight(const ChannelDweightArgs& a);   \
  void conv2d_winograd_forward(const WinogradArgs& a);        \
  void conv2d_winograd_dweight(const WinogradDweightArgs& a); \
  }
SN_DECLARE_DIRECT(avx2)
SN_DECLARE_DIRECT(avx512)
SN_DECLARE_DIRECT(neon)
SN_DECLARE_DIRECT(simd128)
#undef SN_DECLARE_DIRECT

}  // namespace simdnet
