// SPDX-License-Identifier: MIT
// The descriptor reader and parse state shared by program.cc and program_graph.cc (internal to the program ops).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "program.h"

namespace simdnet {

constexpr int64_t kProgramMaxDim = int64_t{1} << 24;

// Reads a descriptor field by field; the first problem is kept in *error and later reads return `min`.
class ProgramReader {
 public:
  ProgramReader(const int32_t* code, int64_t length) : code_(code), length_(length) {}
  bool done() const { return pos_ >= length_; }
  int64_t remaining() const { return length_ - pos_; }
  // Next field; sets *error when the descriptor ends early or the value is below min or above kProgramMaxDim.
  int64_t next(const char* field, int64_t min, std::string* error) {
    if (!error->empty()) return min;
    if (pos_ >= length_) {
      *error = std::string("descriptor ends inside an op (missing ") + field + ")";
      return min;
    }
    const int64_t v = code_[pos_++];
    if (v < min || v > kProgramMaxDim) {
      *error = std::string(field) + " = " + std::to_string(v) + " is out of range";
      return min;
    }
    return v;
  }

 private:
  const int32_t* code_;
  int64_t length_;
  int64_t pos_ = 0;
};

// Checks that parameter `index` exists and holds `expected` values; false (and *error set, naming `what`) if not, or
// if *error was already set.
inline bool check_param(int64_t index, int64_t expected, const std::vector<int64_t>& lengths, const char* what,
                        std::string* error) {
  if (!error->empty()) return false;
  if (index < 0 || index >= static_cast<int64_t>(lengths.size()))
    *error = std::string(what) + " index " + std::to_string(index) + " is not a parameter";
  else if (lengths[index] != expected)
    *error = std::string(what) + " length " + std::to_string(lengths[index]) + " != " + std::to_string(expected);
  return error->empty();
}

// What parsing knows between ops: the size of the current value and of each slot's value (-1: none yet).
struct ProgramParseState {
  int64_t current = -1;
  std::vector<int64_t> slot_value, slot_capacity;
};

// Parses the fields of graph op `op->code` (kOpSave .. kOpClamp) into *op and checks them against the state, which
// it updates for save and load; sets op->in_size and op->out_size. Returns false for another code.
bool parse_graph_op(ProgramReader& r, const std::vector<int64_t>& param_lengths, ProgramParseState* state,
                    ProgramOp* op, std::string* error);

// Runs graph op `op` on n images: y from x (the current value), slots (slot memory, program.slot_size per image).
void run_graph_op(const Program& program, const ProgramOp& op, int64_t n, const float* x, float* y, float* slots,
                  const std::vector<const float*>& params);

}  // namespace simdnet
