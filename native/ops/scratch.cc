// SPDX-License-Identifier: MIT
// Thread-local scratch buffers (see scratch.h).
#include "scratch.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#endif

namespace simdnet {
namespace {

struct Buffer {
  float* data = nullptr;
  int64_t capacity = 0;
  ~Buffer() { std::free(data); }
};

thread_local Buffer buffers[static_cast<int>(ScratchSlot::kCount)];
std::atomic<int64_t> total_allocations{0}, total_bytes{0};

}  // namespace

float* thread_scratch(ScratchSlot slot, int64_t floats) {
  Buffer& b = buffers[static_cast<int>(slot)];
  if (floats > b.capacity) {
    // Round up to whole 64-byte lines; grow by at least 1.5x to avoid creeping reallocations.
    int64_t want = floats + floats / 2 + 16;
    want = (want + 15) / 16 * 16;
    void* p = std::aligned_alloc(64, static_cast<size_t>(want) * sizeof(float));
    if (p == nullptr) throw std::bad_alloc();
    std::free(b.data);
    b.data = static_cast<float*>(p);
    b.capacity = want;
    total_allocations.fetch_add(1, std::memory_order_relaxed);
    total_bytes.fetch_add(want * static_cast<int64_t>(sizeof(float)), std::memory_order_relaxed);
  }
  return b.data;
}

ScratchStats scratch_stats() { return {total_allocations.load(), total_bytes.load()}; }

bool advise_huge_pages(void* p, int64_t bytes) {
#if defined(__linux__) && !defined(__EMSCRIPTEN__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{1} << 21;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(bytes)) & ~(kHuge - 1);
  return end > begin && madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

}  // namespace simdnet
