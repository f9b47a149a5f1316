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

// Asks the OS to back the whole 2 MiB-aligned stretches of [p, p + bytes) with transparent huge pages (Linux
// madvise MADV_HUGEPAGE, which this machine's "madvise" THP mode needs; elsewhere nothing): a pass over a channel of
// a large activation walks one 4 KiB page per row, and 4 KiB pages then cost a TLB miss each. Works on memory not yet
// written. True when advised.
bool advise_huge_pages(void* p, int64_t bytes);

}  // namespace simdnet
