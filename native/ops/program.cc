// SPDX-License-Identifier: MIT
// Parses, validates and runs inference programs (see program.h): the layer ops here, the graph-value ops in
// program_graph.cc. Intermediate results ping-pong between two thread-local scratch buffers (slots sit after the
// second; an op whose output is saved next writes it into its slot), so a warm call allocates nothing but a chunked
// run's packed conv weights when no cache is kept.
#include "program.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>

#include "conv2d_pack_cache.h"
#include "conv_transpose2d_op.h"
#include "ops.h"
#include "parallel.h"
#include "program_reader.h"
#include "scratch.h"
#include "upsample_op.h"

namespace simdnet {
namespace {

using Reader = ProgramReader;

// kOpAvgPool's fields after the op code: sizes, then the window table and divisors (see program.h).
void parse_avg_pool(Reader& r, ProgramOp* op, std::string* error) {
  Pool2dShape& s = op->pool;
  s.n = 1;
  s.c = r.next("c", 1, error), s.h = r.next("h", 1, error), s.w = r.next("w", 1, error);
  s.oh = r.next("oh", 1, error), s.ow = r.next("ow", 1, error);
  if (!error->empty()) return;
  // Sizes are at most 2^24, so these products fit; checking the length first bounds the loops.
  if (r.remaining() < 2 * s.oh + 2 * s.ow + s.oh * s.ow) {
    *error =
        "avg pool window table ends early (needs " + std::to_string(2 * s.oh + 2 * s.ow + s.oh * s.ow) + " values)";
    return;
  }
  op->windows.resize(static_cast<size_t>(2 * s.oh + 2 * s.ow));
  for (int64_t i = 0; i < 2 * s.oh + 2 * s.ow && error->empty(); ++i) {
    const bool row = i < 2 * s.oh;
    op->windows[i] = static_cast<int32_t>(r.next(row ? "avg pool row index" : "avg pool column index", 0, error));
    if (error->empty() && op->windows[i] > (row ? s.h : s.w)) *error = "avg pool window index outside its input";
  }
  const int32_t* rs = op->windows.data();
  const int32_t *re = rs + s.oh, *cs = re + s.oh, *ce = cs + s.ow;
  op->divisor.resize(static_cast<size_t>(s.oh * s.ow));
  for (int64_t y = 0; y < s.oh && error->empty(); ++y) {
    for (int64_t x = 0; x < s.ow && error->empty(); ++x) {
      const int64_t d = r.next("avg pool divisor", 0, error);
      if (error->empty() && rs[y] > re[y]) *error = "avg pool row window ends before it starts";
      if (error->empty() && cs[x] > ce[x]) *error = "avg pool column window ends before it starts";
      if (error->empty() && d == 0 && rs[y] < re[y] && cs[x] < ce[x])
        *error = "avg pool divisor 0 for a non-empty window";
      op->divisor[y * s.ow + x] = static_cast<double>(d);
    }
  }
  op->in_size = s.c * s.h * s.w;
  op->out_size = s.c * s.oh * s.ow;
}

// kOpConvTranspose's fields after the op code (see program.h); op->conv is the Conv2d mapping the output back.
void parse_conv_transpose(Reader& r, const std::vector<int64_t>& param_lengths, ProgramOp* op, std::string* error) {
  Conv2dShape& s = op->conv;
  s.n = 1;
  s.oc = r.next("c", 1, error), s.oh = r.next("h", 1, error), s.ow = r.next("w", 1, error);
  s.c = r.next("outChannels", 1, error), s.kh = r.next("kh", 1, error), s.kw = r.next("kw", 1, error);
  s.sh = r.next("strideH", 1, error), s.sw = r.next("strideW", 1, error);
  s.ph = r.next("padH", 0, error), s.pw = r.next("padW", 0, error);
  s.h = r.next("outH", 1, error), s.w = r.next("outW", 1, error);
  s.dh = r.next("dilationH", 1, error), s.dw = r.next("dilationW", 1, error);
  s.groups = r.next("groups", 1, error);
  op->weight = static_cast<int32_t>(r.next("weight", 0, error));
  op->bias = static_cast<int32_t>(r.next("bias", -1, error));
  if (!error->empty()) return;
  if (s.c % s.groups != 0 || s.oc % s.groups != 0) *error = "conv transpose groups must divide the channels";
  if (error->empty() && (conv_output_size(s.h, s.kh, s.sh, s.ph, s.dh) != s.oh ||
                         conv_output_size(s.w, s.kw, s.sw, s.pw, s.dw) != s.ow)) {
    *error = "conv transpose output size does not map back to its input";
  }
  check_param(op->weight, s.oc * (s.c / s.groups) * s.kh * s.kw, param_lengths, "conv transpose weight", error);
  if (op->bias >= 0) check_param(op->bias, s.c, param_lengths, "conv transpose bias", error);
  op->in_size = s.oc * s.oh * s.ow;
  op->out_size = s.c * s.h * s.w;
}

// kOpUpsample's fields after the op code (see program.h).
void parse_upsample(Reader& r, ProgramOp* op, std::string* error) {
  UpsampleShape& s = op->upsample;
  op->pool.c = r.next("c", 1, error);
  s.h = r.next("h", 1, error), s.w = r.next("w", 1, error);
  s.oh = r.next("oh", 1, error), s.ow = r.next("ow", 1, error);
  const int64_t bilinear = r.next("bilinear", 0, error), align = r.next("alignCorners", 0, error);
  if (!error->empty()) return;
  if (bilinear > 1 || align > 1 || (align == 1 && bilinear == 0))
    *error = "upsample mode flags must be 0/1, align only when bilinear";
  s.bilinear = bilinear == 1;
  s.align_corners = align == 1;
  s.scale_h = s.scale_w = 0;
  op->in_size = op->pool.c * s.h * s.w;
  op->out_size = op->pool.c * s.oh * s.ow;
}

// kOpConv's fields after the op code (see program.h).
void parse_conv(Reader& r, const std::vector<int64_t>& param_lengths, ProgramOp* op, std::string* error) {
  Conv2dShape& s = op->conv;
  s.n = 1;
  s.c = r.next("c", 1, error), s.h = r.next("h", 1, error), s.w = r.next("w", 1, error);
  s.oc = r.next("outChannels", 1, error), s.kh = r.next("kh", 1, error), s.kw = r.next("kw", 1, error);
  s.sh = r.next("strideH", 1, error), s.sw = r.next("strideW", 1, error);
  s.ph = r.next("padH", 0, error), s.pw = r.next("padW", 0, error);
  s.dh = r.next("dilationH", 1, error), s.dw = r.next("dilationW", 1, error);
  s.groups = r.next("groups", 1, error);
  op->relu = r.next("relu", 0, error) != 0;
  op->weight = static_cast<int32_t>(r.next("weight", 0, error));
  op->bias = static_cast<int32_t>(r.next("bias", -1, error));
  if (!error->empty()) return;
  if (s.c % s.groups != 0 || s.oc % s.groups != 0) *error = "conv groups must divide the channels";
  s.oh = conv_output_size(s.h, s.kh, s.sh, s.ph, s.dh);
  s.ow = conv_output_size(s.w, s.kw, s.sw, s.pw, s.dw);
  if (error->empty() && (s.oh < 1 || s.ow < 1)) *error = "conv kernel does not fit its input";
  check_param(op->weight, s.oc * (s.c / s.groups) * s.kh * s.kw, param_lengths, "conv weight", error);
  if (op->bias >= 0) check_param(op->bias, s.oc, param_lengths, "conv bias", error);
  op->in_size = s.c * s.h * s.w;
  op->out_size = s.oc * s.oh * s.ow;
}

// kOpConvAdd's residual fields after the conv's (see program.h): every value it reads lies inside the residual.
void parse_residual(Reader& r, const ProgramParseState& state, ProgramOp* op, std::string* error) {
  const int64_t slot = r.next("residual slot", -1, error);
  static const char* const kFields[] = {"residual c",
                                        "residual h",
                                        "residual w",
                                        "residual c0",
                                        "residual y0",
                                        "residual x0",
                                        "residual channel step",
                                        "residual row step",
                                        "residual column step",
                                        "residual before",
                                        "residual count"};
  static const int64_t kMin[] = {1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1};
  for (int i = 0; i < 11 && error->empty(); ++i) op->dims.push_back(r.next(kFields[i], kMin[i], error));
  if (!error->empty()) return;
  const int64_t* d = op->dims.data();
  // Fields are at most 2^24: the plane fits, the whole value is checked before it is multiplied out.
  if (d[0] > kProgramMaxDim * kProgramMaxDim / (d[1] * d[2])) {
    *error = "conv residual is too large";
    return;
  }
  const int64_t size = d[0] * d[1] * d[2];
  const Conv2dShape& s = op->conv;
  if (d[3] + (d[10] - 1) * d[6] >= d[0] || d[4] + (s.oh - 1) * d[7] >= d[1] || d[5] + (s.ow - 1) * d[8] >= d[2])
    *error = "conv residual reads past the end of its value";
  else if (d[9] + d[10] > s.oc)
    *error = "conv residual channels go past the conv's output channels";
  else if (slot == -1 && size != op->in_size)
    *error = "conv residual from the conv's input must have its " + std::to_string(op->in_size) + " values";
  if (!error->empty() || slot == -1) {
    op->slot = -1;
    return;
  }
  const int64_t held = slot < static_cast<int64_t>(state.slot_value.size()) ? state.slot_value[slot] : -1;
  if (slot >= kProgramMaxSlots || held != size)
    *error = "conv residual slot " + std::to_string(slot) + " does not hold " + std::to_string(size) + " values";
  op->slot = static_cast<int32_t>(slot);
}

// The ConvResidual of a kOpConvAdd on n images: its value (the conv's input x, or its slot) read as program.h says.
ConvResidual conv_residual(const Program& program, const ProgramOp& op, int64_t n, const float* x, const float* slots) {
  const int64_t* d = op.dims.data();
  const float* value = op.slot < 0 ? x : slots + n * program.slot_offset[op.slot];
  ConvResidual r;
  r.data = value + (d[3] * d[1] + d[4]) * d[2] + d[5];
  r.c0 = d[9];
  r.c1 = d[9] + d[10];
  r.image_stride = d[0] * d[1] * d[2];
  r.channel_stride = d[6] * d[1] * d[2];
  r.row_stride = d[7] * d[2];
  r.col_step = d[8];
  return r;
}

// Whether op reads slot `slot` besides its current value (which the caller compares by address).
bool reads_slot(const ProgramOp& op, int32_t slot) {
  if (op.code == kOpBinary || op.code == kOpConvAdd) return op.slot == slot;
  if (op.code == kOpConcat) return std::find(op.operands.begin(), op.operands.end(), slot) != op.operands.end();
  return false;
}

// An op's flops per image: 2 per multiply-add of the convs (transposed too: the same shape read the other way) and
// linear layers, one per output value elsewhere.
double op_flops(const ProgramOp& op) {
  const Conv2dShape& s = op.conv;
  switch (op.code) {
    case kOpConv:
    case kOpConvAdd:
    case kOpConvTranspose:
      return 2.0 * static_cast<double>(s.oc * (s.c / s.groups) * s.kh * s.kw) * static_cast<double>(s.oh * s.ow);
    case kOpLinear:
      return 2.0 * static_cast<double>(op.dense.in) * static_cast<double>(op.dense.out);
    default:
      return static_cast<double>(std::max<int64_t>(op.out_size, 0));
  }
}

}  // namespace

std::string parse_program(const int32_t* code, int64_t length, const std::vector<int64_t>& param_lengths,
                          Program* program) {
  Reader r(code, length);
  std::string error;
  program->ops.clear();
  ProgramParseState state;
  bool have_input = false;
  while (!r.done() && error.empty()) {
    ProgramOp op{};
    op.code = static_cast<ProgramOpCode>(r.next("op code", 1, &error));
    op.bias = -1;
    if (op.code == kOpConv || op.code == kOpConvAdd) {
      parse_conv(r, param_lengths, &op, &error);
      if (op.code == kOpConvAdd) parse_residual(r, state, &op, &error);
    } else if (op.code == kOpMaxPool) {
      Pool2dShape& s = op.pool;
      s.n = 1;
      s.c = r.next("c", 1, &error), s.h = r.next("h", 1, &error), s.w = r.next("w", 1, &error);
      s.kh = r.next("kh", 1, &error), s.kw = r.next("kw", 1, &error);
      s.sh = r.next("strideH", 1, &error), s.sw = r.next("strideW", 1, &error);
      s.ph = r.next("padH", 0, &error), s.pw = r.next("padW", 0, &error);
      s.dh = r.next("dilationH", 1, &error), s.dw = r.next("dilationW", 1, &error);
      const bool ceil_mode = r.next("ceilMode", 0, &error) != 0;
      if (!error.empty()) break;
      if (2 * s.ph > s.kh || 2 * s.pw > s.kw) error = "pool padding must be at most half the kernel";
      s.oh = pool_output_size(s.h, s.kh, s.sh, s.ph, s.dh, ceil_mode);
      s.ow = pool_output_size(s.w, s.kw, s.sw, s.pw, s.dw, ceil_mode);
      if (error.empty() && (s.oh < 1 || s.ow < 1)) error = "pool kernel does not fit its input";
      if (error.empty() &&
          (pool_window_in_padding(s.h, s.kh, s.ph, s.dh) || pool_window_in_padding(s.w, s.kw, s.pw, s.dw))) {
        error = "pool has a window holding only padding";
      }
      op.in_size = s.c * s.h * s.w;
      op.out_size = s.c * s.oh * s.ow;
    } else if (op.code == kOpLinear) {
      op.dense = {1, r.next("inFeatures", 1, &error), r.next("outFeatures", 1, &error)};
      op.relu = r.next("relu", 0, &error) != 0;
      op.weight = static_cast<int32_t>(r.next("weight", 0, &error));
      op.bias = static_cast<int32_t>(r.next("bias", -1, &error));
      if (!error.empty()) break;
      check_param(op.weight, op.dense.out * op.dense.in, param_lengths, "linear weight", &error);
      if (op.bias >= 0) check_param(op.bias, op.dense.out, param_lengths, "linear bias", &error);
      op.in_size = op.dense.in;
      op.out_size = op.dense.out;
    } else if (op.code == kOpRelu) {
      op.in_size = op.out_size = r.next("count", 1, &error);
    } else if (op.code == kOpAvgPool) {
      parse_avg_pool(r, &op, &error);
    } else if (op.code == kOpConvTranspose) {
      parse_conv_transpose(r, param_lengths, &op, &error);
    } else if (op.code == kOpUpsample) {
      parse_upsample(r, &op, &error);
    } else if (!parse_graph_op(r, param_lengths, &state, &op, &error) && error.empty()) {
      error = "unknown op code " + std::to_string(op.code);
    }
    // in_size < 0: the op does not read the current value (a load, a concat of slots).
    if (error.empty() && op.in_size >= 0) {
      if (!have_input) {
        program->in_size = op.in_size;
        have_input = true;
      } else if (state.current != op.in_size) {
        error = "op " + std::to_string(program->ops.size()) + " takes " + std::to_string(op.in_size) +
                " values per image but the previous op gives " + std::to_string(state.current);
      }
    }
    if (error.empty()) {
      state.current = op.out_size;
      program->ops.push_back(op);
    }
  }
  if (error.empty() && program->ops.empty()) error = "the program has no ops";
  if (error.empty() && !have_input) error = "the program never reads its input";
  if (!error.empty()) return error;
  program->out_size = state.current;
  program->max_size = 0;
  for (const ProgramOp& op : program->ops) {
    if (op.code != kOpSave && op.code != kOpLoad) program->max_size = std::max(program->max_size, op.out_size);
  }
  program->slot_offset.assign(state.slot_capacity.size(), 0);
  program->slot_size = 0;
  for (size_t s = 0; s < state.slot_capacity.size(); ++s) {
    program->slot_offset[s] = program->slot_size;
    program->slot_size += std::max<int64_t>(state.slot_capacity[s], 0);
  }
  // As many images as keep one chunk's values (the two ping-pong buffers and the slots) within about half of a core's
  // L2, at least 2; from the program alone, so every thread count cuts a batch the same way.
  constexpr int64_t kChunkBytes = 512 * 1024;
  const int64_t per_image = static_cast<int64_t>(sizeof(float)) * (2 * program->max_size + program->slot_size);
  program->chunk_images = std::max<int64_t>(2, kChunkBytes / std::max<int64_t>(per_image, 1));
  program->flops_per_image = 0;
  for (const ProgramOp& op : program->ops) program->flops_per_image += op_flops(op);
  return "";
}

namespace {

// Ops whose own parallel loops write all they write: every member of the program's region runs them (sharing their
// loops' items). The rest run once, on one member.
bool runs_on_every_member(const ProgramOp& op) {
  switch (op.code) {
    case kOpConv:
    case kOpConvAdd:
    case kOpMaxPool:
    case kOpAvgPool:
    case kOpLinear:
    case kOpUpsample:
    case kOpBinary:  // the graph ops (run_graph_op) write only inside their per-image loop
    case kOpConcat:
    case kOpPad:
    case kOpSlice:
    case kOpSigmoid:
    case kOpClamp:
      return true;
    default:
      return false;
  }
}

// Op `op` (not a save or load) of a program on n images: y from x.
void run_op(const Program& program, const ProgramOp& op, int64_t n, const float* x, float* y, float* slots,
            const std::vector<const float*>& params, ConvPackCache* cache) {
  const float* bias = op.bias >= 0 ? params[op.bias] : nullptr;
  if (op.code == kOpConv || op.code == kOpConvAdd) {
    Conv2dShape s = op.conv;
    s.n = n;
    const ConvResidual residual = op.code == kOpConvAdd ? conv_residual(program, op, n, x, slots) : ConvResidual{};
    conv2d_forward_op(y, x, params[op.weight], bias, s, op.relu, cache, residual);
  } else if (op.code == kOpConvTranspose) {
    Conv2dShape s = op.conv;
    s.n = n;
    conv_transpose2d_forward_op(y, x, params[op.weight], bias, s);
  } else if (op.code == kOpUpsample) {
    upsample2d_forward_op(y, x, op.upsample, n * op.pool.c);
  } else if (op.code == kOpMaxPool) {
    Pool2dShape s = op.pool;
    s.n = n;
    maxpool2d_forward_op(y, nullptr, x, s);  // no backward follows a program: no argmax
  } else if (op.code == kOpLinear) {
    DenseShape s = op.dense;
    s.batch = n;
    dense_forward_op(y, x, params[op.weight], bias, s, op.relu);
  } else if (op.code == kOpAvgPool) {
    const Pool2dShape& p = op.pool;
    const int32_t* rs = op.windows.data();
    const WindowMeanShape s{
        p.h, p.w, p.oh, p.ow, rs, rs + p.oh, rs + 2 * p.oh, rs + 2 * p.oh + p.ow, op.divisor.data()};
    window_mean_forward_op(y, x, s, n * p.c);
  } else if (op.code == kOpRelu) {
    relu_forward_op(y, x, n * op.out_size);
  } else {
    run_graph_op(program, op, n, x, y, slots, params);
  }
}

// Walks the program's ops on n images from `input` to `output`, intermediate values in ping / pong and the slots.
// Every caller takes the same path: inside run_program's region each member walks all of it (their loops share items);
// inside one chunk's item it runs on that thread alone (nested loops run in order).
void walk_ops(const Program& program, int64_t n, const float* input, float* output,
              const std::vector<const float*>& params, ConvPackCache* cache, float* ping, float* pong, float* slots) {
  // The last op writes the output directly when it computes (not when the program ends by loading a slot).
  const size_t last = program.ops.size() - 1;
  const bool last_computes = program.ops[last].code != kOpSave && program.ops[last].code != kOpLoad;
  const float* x = input;
  for (size_t i = 0; i < program.ops.size(); ++i) {
    const ProgramOp& op = program.ops[i];
    if (op.code == kOpSave) {
      float* dst = slots + n * program.slot_offset[op.slot];
      if (dst != x) run_once([&] { std::memcpy(dst, x, sizeof(float) * n * op.out_size); });
      continue;
    }
    if (op.code == kOpLoad) {
      x = slots + n * program.slot_offset[op.slot];
      continue;
    }
    float* y = i == last && last_computes ? output : (x == ping ? pong : ping);
    // An output saved right away goes straight into its slot (no copy), unless the op reads that slot.
    if (i < last && program.ops[i + 1].code == kOpSave) {
      const int32_t slot = program.ops[i + 1].slot;
      float* dst = slots + n * program.slot_offset[slot];
      if (dst != x && !reads_slot(op, slot)) y = dst;
    }
    if (runs_on_every_member(op))
      run_op(program, op, n, x, y, slots, params, cache);
    else
      run_once([&] { run_op(program, op, n, x, y, slots, params, cache); });
    x = y;
  }
  if (x != output) run_once([&] { std::memcpy(output, x, sizeof(float) * n * program.out_size); });
}

// Whether every piece of `check` passes; the pieces are a loop's items, shared by the threads (of a region too: `stale`
// must then be one flag for all members, read only after the loop).
bool weights_current(const WeightCheck& check, std::atomic<bool>& stale) {
  parallel_for(check.items, [&](int64_t i) {
    if (!stale.load(std::memory_order_relaxed) && !check.same(i)) stale.store(true, std::memory_order_relaxed);
  });
  return !stale.load(std::memory_order_relaxed);
}

}  // namespace

bool run_program(const Program& program, int64_t n, const float* input, float* output,
                 const std::vector<const float*>& params, ConvPackCache* cache, const WeightCheck* check) {
  std::atomic<bool> stale{false};
  // A batch of two chunks or more runs chunk by chunk, each chunk's whole program on one thread: its values stay in
  // that core's cache from op to op (a batch-wide op streamed every activation through memory: padding copies and
  // residual adds took 17% of a batch-64 ResNet-20), and the threads share no memory and meet at no barrier (the
  // whole-batch region below meets at every op's end; docs/wasm.md, Speed). At least kMinChunks chunks while they keep
  // 2 images or more, so that threads get even shares (LeNet at batch 64: 8 of 8 images, not 5 of 13). The chunks
  // depend on n alone, so results do not depend on the thread count; the direct and channel conv paths compute each
  // image alone, so there they are also the whole-batch run's. Without a kept cache (a snapshot's), one for this run
  // packs each conv's weights once.
  constexpr int64_t kMinChunks = 8;
  const int64_t chunk = std::min(program.chunk_images, std::max<int64_t>(2, (n + kMinChunks - 1) / kMinChunks));
  if (n >= 2 * chunk) {
    if (check != nullptr && !weights_current(*check, stale)) return false;
    ConvPackCache run_cache;
    ConvPackCache* packs = cache != nullptr ? cache : &run_cache;
    parallel_for((n + chunk - 1) / chunk, [&](int64_t c) {
      const int64_t n0 = c * chunk, m = std::min(chunk, n - n0);
      float* ping = thread_scratch(ScratchSlot::kProgramA, m * std::max<int64_t>(program.max_size, 1));
      float* pong = thread_scratch(ScratchSlot::kProgramB, m * (program.max_size + program.slot_size));
      walk_ops(program, m, input + n0 * program.in_size, output + n0 * program.out_size, params, packs, ping, pong,
               pong + m * program.max_size);
    });
    return true;
  }
  // A batch this small runs on this thread alone: LeNet at batch 1 (1.3 MFLOP, about 27 us on one core) ran at best
  // 10% faster on two threads, and in some processes half as fast, since the region's threads meet at every op's end
  // after a few microseconds of work and lose whenever one of them is not running (docs/threads.md).
  constexpr double kMinRegionFlops = 2e6;
  std::optional<SerialScope> serial;
  if (static_cast<double>(n) * program.flops_per_image < kMinRegionFlops) serial.emplace();
  float* ping = thread_scratch(ScratchSlot::kProgramA, n * std::max<int64_t>(program.max_size, 1));
  float* pong = thread_scratch(ScratchSlot::kProgramB, n * (program.max_size + program.slot_size));
  // One parallel region for the whole program: the threads stay in it from op to op (a barrier at the end of each
  // op's loops) instead of a fork/join per op. Every member walks the ops and picks the same buffers. The weight check
  // runs in the region too: at batch 1 it is a few % of the work, and on one thread it left the others idle.
  parallel_region(num_threads(), [&] {
    if (check != nullptr && !weights_current(*check, stale)) return;
    walk_ops(program, n, input, output, params, cache, ping, pong, pong + n * program.max_size);
  });
  return !stale.load();
}

}  // namespace simdnet
