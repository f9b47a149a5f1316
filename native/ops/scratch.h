// SPDX-License-Identifier: MIT
// Per-thread scratch memory for the ops layer: grows to the largest request, then is reused,
// so steady-state training allocates nothing. Each OpenMP thread (and each JS worker thread)
// has its own slots.
#pragma once
#include <cstdint>

namespace simdnet {

enum class ScratchSlot {
  kColumns,
  kColumnGrad,
  kGradBlock,
  kGemm,
  kPartials,
  kPackedWeights,
  kTables,
  kProgramA,
  kProgramB,
  kCount
};

// At least `floats` floats, 64-byte aligned, valid until the same thread asks for the same slot again.
float* thread_scratch(ScratchSlot slot, int64_t floats);

// Growths of any scratch buffer since the process started (all threads), and their bytes: a
// steady-state training loop leaves both unchanged.
struct ScratchStats {
  int64_t allocations, bytes;
};
ScratchStats scratch_stats();

}  // namespace simdnet
