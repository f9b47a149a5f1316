// SPDX-License-Identifier: MIT
// The graph-value ops of inference programs (see program.h): slots (save, load), add and mul with broadcasting,
// concat, constant pad, strided slice, sigmoid and clamp: parsing with every check, and running them per image.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops.h"
#include "parallel.h"
#include "program_reader.h"
#include "strided_rows.h"

namespace simdnet {
namespace {

// Product of dims, or -1 once it passes kProgramMaxDim * kProgramMaxDim (no overflow; such sizes are errors).
int64_t product(const int64_t* dims, int64_t rank) {
  int64_t p = 1;
  for (int64_t d = 0; d < rank; ++d) {
    p *= dims[d];
    if (p > kProgramMaxDim * kProgramMaxDim) return -1;
  }
  return p;
}

// Reads `count` dims >= min into op->dims.
void read_dims(ProgramReader& r, const char* field, int64_t count, int64_t min, ProgramOp* op, std::string* error) {
  for (int64_t i = 0; i < count && error->empty(); ++i) op->dims.push_back(r.next(field, min, error));
}

// A slot index, and (for reading) a check that it holds `size` values.
int32_t read_slot(ProgramReader& r, const ProgramParseState& state, int64_t size, std::string* error) {
  const int64_t slot = r.next("slot", 0, error);
  if (!error->empty()) return -1;
  if (slot >= kProgramMaxSlots) {
    *error = "slot " + std::to_string(slot) + " is out of range";
  } else if (size >= 0) {
    const int64_t held = slot < static_cast<int64_t>(state.slot_value.size()) ? state.slot_value[slot] : -1;
    if (held < 0)
      *error = "slot " + std::to_string(slot) + " is read before anything is saved in it";
    else if (held != size)
      *error = "slot " + std::to_string(slot) + " holds " + std::to_string(held) + " values, the op reads " +
               std::to_string(size);
  }
  return static_cast<int32_t>(slot);
}

// Reads op->rank (1 .. kProgramMaxRank); false once *error is set.
bool read_rank(ProgramReader& r, const char* op_name, ProgramOp* op, std::string* error) {
  op->rank = static_cast<int32_t>(r.next("rank", 1, error));
  if (error->empty() && op->rank > kProgramMaxRank) *error = std::string(op_name) + " rank is above the limit";
  return error->empty();
}

void parse_binary(ProgramReader& r, const ProgramParseState& state, ProgramOp* op, std::string* error) {
  op->kind = static_cast<int32_t>(r.next("kind", 0, error));
  op->relu = r.next("relu", 0, error) != 0;
  const int64_t slot_field = r.next("slot", 0, error);
  op->rank = static_cast<int32_t>(r.next("rank", 1, error));
  if (error->empty() && (op->kind > 1 || op->rank > kProgramMaxRank))
    *error = op->kind > 1 ? "binary kind must be 0 (add) or 1 (mul)" : "binary rank is above the limit";
  if (!error->empty()) return;
  read_dims(r, "binary dim", 3 * op->rank, 1, op, error);
  if (!error->empty()) return;
  const int64_t* out = op->dims.data();
  const int64_t *x = out + op->rank, *o = x + op->rank;
  for (int64_t d = 0; d < op->rank && error->empty(); ++d) {
    if ((x[d] != out[d] && x[d] != 1) || (o[d] != out[d] && o[d] != 1) || std::max(x[d], o[d]) != out[d])
      *error = "binary operand shapes do not broadcast to the output shape";
  }
  op->in_size = product(x, op->rank);
  op->out_size = product(out, op->rank);
  const int64_t other = product(o, op->rank);
  if (error->empty() && (op->in_size < 0 || op->out_size < 0 || other < 0)) *error = "binary sizes are too large";
  if (error->empty() && slot_field >= kProgramMaxSlots) *error = "slot is out of range";
  if (!error->empty()) return;
  const int64_t held = slot_field < static_cast<int64_t>(state.slot_value.size()) ? state.slot_value[slot_field] : -1;
  if (held != other) *error = "binary slot " + std::to_string(slot_field) + " does not hold the other operand's values";
  op->slot = static_cast<int32_t>(slot_field);
}

void parse_concat(ProgramReader& r, const ProgramParseState& state, ProgramOp* op, std::string* error) {
  const int64_t count = r.next("count", 1, error);
  op->outer = r.next("outer", 1, error);
  if (error->empty() && count > kProgramMaxSlots) *error = "concat count is above the limit";
  if (!error->empty()) return;
  op->in_size = -1;
  int64_t total = 0;
  for (int64_t k = 0; k < count && error->empty(); ++k) {
    const int64_t operand = r.next("concat operand", -1, error);
    const int64_t inner = r.next("concat inner", 1, error);
    if (!error->empty()) return;
    const int64_t size = op->outer * inner;
    if (operand == -1) {
      if (op->in_size >= 0) *error = "concat reads the current value twice";
      op->in_size = size;
    } else if (operand >= kProgramMaxSlots) {
      *error = "concat slot is out of range";
    } else {
      const int64_t held = operand < static_cast<int64_t>(state.slot_value.size()) ? state.slot_value[operand] : -1;
      if (held != size)
        *error = "concat slot " + std::to_string(operand) + " does not hold " + std::to_string(size) + " values";
    }
    op->operands.push_back(static_cast<int32_t>(operand));
    op->inner.push_back(inner);
    total += inner;
  }
  op->out_size = op->outer * total;
}

void parse_pad(ProgramReader& r, const std::vector<int64_t>& params, ProgramOp* op, std::string* error) {
  if (!read_rank(r, "pad", op, error)) return;
  read_dims(r, "pad input dim", op->rank, 1, op, error);
  read_dims(r, "pad before", op->rank, 0, op, error);
  read_dims(r, "pad after", op->rank, 0, op, error);
  op->param = static_cast<int32_t>(r.next("pad value", 0, error));
  if (!error->empty()) return;
  check_param(op->param, 1, params, "pad value", error);
  int64_t out[kProgramMaxRank];
  for (int64_t d = 0; d < op->rank; ++d) out[d] = op->dims[d] + op->dims[op->rank + d] + op->dims[2 * op->rank + d];
  op->in_size = product(op->dims.data(), op->rank);
  op->out_size = product(out, op->rank);
  if (error->empty() && (op->in_size < 0 || op->out_size < 0)) *error = "pad sizes are too large";
}

void parse_slice(ProgramReader& r, ProgramOp* op, std::string* error) {
  if (!read_rank(r, "slice", op, error)) return;
  read_dims(r, "slice input dim", op->rank, 1, op, error);
  read_dims(r, "slice start", op->rank, 0, op, error);
  read_dims(r, "slice step", op->rank, 1, op, error);
  read_dims(r, "slice output dim", op->rank, 1, op, error);
  if (!error->empty()) return;
  const int64_t* in = op->dims.data();
  const int64_t *start = in + op->rank, *step = start + op->rank, *out = step + op->rank;
  for (int64_t d = 0; d < op->rank && error->empty(); ++d) {
    if (start[d] + (out[d] - 1) * step[d] >= in[d]) *error = "slice reads past the end of its input";
  }
  op->in_size = product(in, op->rank);
  op->out_size = product(out, op->rank);
  if (error->empty() && (op->in_size < 0 || op->out_size < 0)) *error = "slice sizes are too large";
}

// One image of kOpBinary: y[out] = x op o with x and o broadcast (stride 0 along their size-1 dims).
void binary_image(float* y, const float* x, const float* o, const ProgramOp& op) {
  const int64_t rank = op.rank;
  const int64_t* out = op.dims.data();
  const int64_t *xd = out + rank, *od = xd + rank;
  const bool mul = op.kind == 1;
  if (std::equal(xd, xd + rank, od)) {
    for (int64_t i = 0; i < op.out_size; ++i) y[i] = mul ? x[i] * o[i] : x[i] + o[i];
    return;
  }
  int64_t sx[kProgramMaxRank], so[kProgramMaxRank], idx[kProgramMaxRank] = {0};
  strides_of(xd, rank, sx);
  strides_of(od, rank, so);
  for (int64_t d = 0; d < rank; ++d) {
    if (xd[d] == 1 && out[d] != 1) sx[d] = 0;
    if (od[d] == 1 && out[d] != 1) so[d] = 0;
  }
  int64_t ix = 0, io = 0;
  for (int64_t i = 0; i < op.out_size; ++i) {
    y[i] = mul ? x[ix] * o[io] : x[ix] + o[io];
    for (int64_t d = rank - 1; d >= 0; --d) {
      ix += sx[d];
      io += so[d];
      if (++idx[d] < out[d]) break;
      ix -= sx[d] * out[d];
      io -= so[d] * out[d];
      idx[d] = 0;
    }
  }
}

void pad_image(float* y, const float* x, const ProgramOp& op, float value) {
  const int64_t rank = op.rank;
  const int64_t *in = op.dims.data(), *before = in + rank, *after = before + rank;
  int64_t out[kProgramMaxRank], si[kProgramMaxRank], so[kProgramMaxRank], ones[kProgramMaxRank], zero[kProgramMaxRank];
  for (int64_t d = 0; d < rank; ++d) {
    out[d] = in[d] + before[d] + after[d];
    ones[d] = 1;
    zero[d] = 0;
  }
  strides_of(in, rank, si);
  strides_of(out, rank, so);
  std::fill(y, y + op.out_size, value);
  int64_t offset = 0;
  for (int64_t d = 0; d < rank; ++d) offset += before[d] * so[d];
  for_each_row(rank, in, si, zero, ones, so,
               [&](int64_t src, int64_t dst) { std::memcpy(y + offset + dst, x + src, sizeof(float) * in[rank - 1]); });
}

}  // namespace

bool parse_graph_op(ProgramReader& r, const std::vector<int64_t>& param_lengths, ProgramParseState* state,
                    ProgramOp* op, std::string* error) {
  switch (op->code) {
    case kOpSave: {
      op->slot = read_slot(r, *state, -1, error);
      op->in_size = op->out_size = r.next("count", 1, error);
      if (!error->empty()) return true;
      if (state->slot_value.size() <= static_cast<size_t>(op->slot)) {
        state->slot_value.resize(op->slot + 1, -1);
        state->slot_capacity.resize(op->slot + 1, -1);
      }
      state->slot_value[op->slot] = op->in_size;
      state->slot_capacity[op->slot] = std::max(state->slot_capacity[op->slot], op->in_size);
      return true;
    }
    case kOpLoad: {
      const int64_t slot = r.next("slot", 0, error);
      const int64_t count = r.next("count", 1, error);
      if (!error->empty()) return true;
      const int64_t held = slot < static_cast<int64_t>(state->slot_value.size()) ? state->slot_value[slot] : -1;
      if (held < 0)
        *error = "slot " + std::to_string(slot) + " is loaded before anything is saved in it";
      else if (held != count)
        *error =
            "slot " + std::to_string(slot) + " holds " + std::to_string(held) + " values, not " + std::to_string(count);
      op->slot = static_cast<int32_t>(slot);
      op->in_size = -1;
      op->out_size = count;
      return true;
    }
    case kOpBinary:
      parse_binary(r, *state, op, error);
      return true;
    case kOpConcat:
      parse_concat(r, *state, op, error);
      return true;
    case kOpPad:
      parse_pad(r, param_lengths, op, error);
      return true;
    case kOpSlice:
      parse_slice(r, op, error);
      return true;
    case kOpSigmoid:
      op->in_size = op->out_size = r.next("count", 1, error);
      return true;
    case kOpClamp:
      op->in_size = op->out_size = r.next("count", 1, error);
      op->param = static_cast<int32_t>(r.next("bounds", 0, error));
      check_param(op->param, 2, param_lengths, "clamp bounds", error);
      return true;
    default:
      return false;
  }
}

void run_graph_op(const Program& program, const ProgramOp& op, int64_t n, const float* x, float* y, float* slots,
                  const std::vector<const float*>& params) {
  const auto slot_data = [&](int32_t slot) { return slots + n * program.slot_offset[slot]; };
  const double work = static_cast<double>(n) * static_cast<double>(op.out_size);
  // Images are independent: spread them over threads (each output value is computed once, so results do not depend
  // on the thread count). Nothing is written outside this loop: every member of a program's region runs these ops.
  const auto per_image = [&](auto&& fn) {
    parallel_columns(n, 1, work, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) fn(i);
    });
  };
  if (op.code == kOpBinary) {
    const float* other = slot_data(op.slot);
    const int64_t other_size = product(op.dims.data() + 2 * op.rank, op.rank);
    per_image([&](int64_t i) {
      binary_image(y + i * op.out_size, x + i * op.in_size, other + i * other_size, op);
      if (op.relu) relu_forward_op(y + i * op.out_size, y + i * op.out_size, op.out_size);
    });
  } else if (op.code == kOpConcat) {
    per_image([&](int64_t i) {
      float* dst = y + i * op.out_size;
      for (int64_t o = 0; o < op.outer; ++o) {
        for (size_t k = 0; k < op.operands.size(); ++k) {
          const int64_t inner = op.inner[k], size = op.outer * inner;
          const float* src = (op.operands[k] < 0 ? x : slot_data(op.operands[k])) + i * size + o * inner;
          std::memcpy(dst, src, sizeof(float) * inner);
          dst += inner;
        }
      }
    });
  } else if (op.code == kOpPad) {
    const float value = params[op.param][0];
    per_image([&](int64_t i) { pad_image(y + i * op.out_size, x + i * op.in_size, op, value); });
  } else if (op.code == kOpSlice) {
    per_image([&](int64_t i) { slice_image(y + i * op.out_size, x + i * op.in_size, op.rank, op.dims.data()); });
  } else if (op.code == kOpSigmoid) {
    // As the Sigmoid layer: in double, with exp of a non-positive argument only (no overflow), rounded once.
    per_image([&](int64_t i) {
      const float* in = x + i * op.in_size;
      float* out = y + i * op.out_size;
      for (int64_t j = 0; j < op.out_size; ++j) {
        const double v = in[j];
        if (v >= 0) {
          out[j] = static_cast<float>(1.0 / (1.0 + std::exp(-v)));
        } else {
          const double e = std::exp(v);
          out[j] = static_cast<float>(e / (1.0 + e));
        }
      }
    });
  } else if (op.code == kOpClamp) {
    const float lo = params[op.param][0], hi = params[op.param][1];
    per_image([&](int64_t i) {
      const float* in = x + i * op.in_size;
      float* out = y + i * op.out_size;
      for (int64_t j = 0; j < op.out_size; ++j) out[j] = in[j] < lo ? lo : in[j] > hi ? hi : in[j];  // NaN stays
    });
  }
}

}  // namespace simdnet
