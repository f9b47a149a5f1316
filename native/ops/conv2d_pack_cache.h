// SPDX-License-Identifier: MIT
// Packed conv weights kept across calls for weight arrays that never change while the cache lives (a program
// snapshot's: binding_program.cc). Packing ResNet-20's weights per call took a sixth of a batch-1 predict().
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace simdnet {

// The packing layouts (ConvPackCache::get's `path`).
constexpr int64_t kChannelPath = 0, kDirectPath = 1, kWinogradPath = 2, kWinograd4Path = 3;

class ConvPackCache {
 public:
  // The packed copy of `weights` in the layout that `layout` names (path, part count, vector width: whatever decides
  // the packing), `floats` long, made by pack(dst) the first time. Safe from several threads at once (asynchronous
  // runs share a snapshot); the returned memory lives as long as the cache.
  template <typename Pack>
  const float* get(const float* weights, int64_t path, int64_t parts, int64_t lanes, int64_t floats, Pack&& pack) {
    std::lock_guard<std::mutex> lock(mutex_);
    Packed& packed = packed_[{weights, path, parts, lanes}];
    if (packed.start == nullptr) {
      // 64-byte aligned, as the per-call scratch is: vector loads never straddle a cache line needlessly.
      packed.storage.resize(static_cast<size_t>(floats + kAlignFloats));
      const uintptr_t address = reinterpret_cast<uintptr_t>(packed.storage.data());
      packed.start = packed.storage.data() + (64 - address % 64) % 64 / sizeof(float);
      pack(packed.start);
    }
    return packed.start;
  }

 private:
  static constexpr int64_t kAlignFloats = 16;
  struct Packed {
    std::vector<float> storage;
    float* start = nullptr;
  };
  std::mutex mutex_;
  std::map<std::tuple<const float*, int64_t, int64_t, int64_t>, Packed> packed_;
};

}  // namespace simdnet
