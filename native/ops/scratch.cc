// SPDX-License-Identifier: MIT
// Thread-local scratch buffers (see scratch.h).
#include "scratch.h"

#include <cstdlib>
#include <new>

namespace simdnet {
namespace {

struct Buffer {
  float* data = nullptr;
  int64_t capacity = 0;
  ~Buffer() { std::free(data); }
};

thread_local Buffer buffers[static_cast<int>(ScratchSlot::kCount)];

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
  }
  return b.data;
}

}  // namespace simdnet
