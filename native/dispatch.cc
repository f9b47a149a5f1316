// SPDX-License-Identifier: MIT
// Builds the kernel tables, detects what the CPU runs and picks one (SIMDNET_ISA overrides at load).
#include "dispatch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace simdnet {
namespace {

struct SimdKernels {
  int64_t lanes;
  decltype(KernelTable::relu_forward) relu_forward;
  decltype(KernelTable::relu_backward) relu_backward;
  decltype(KernelTable::relu_mask) relu_mask;
  decltype(KernelTable::cross_entropy_forward) cross_entropy_forward;
  decltype(KernelTable::cross_entropy_backward) cross_entropy_backward;
  decltype(KernelTable::adam_step) adam_step;
  decltype(KernelTable::maxpool2d_2x2_forward) maxpool2d_2x2_forward;
  decltype(KernelTable::conv2d_direct_forward) direct_forward;
  decltype(KernelTable::conv2d_direct_dweight) direct_dweight;
  decltype(KernelTable::conv2d_channel_forward) channel_forward;
  decltype(KernelTable::conv2d_channel_dweight) channel_dweight;
  decltype(KernelTable::conv2d_winograd_forward) winograd_forward;
  decltype(KernelTable::conv2d_winograd_dweight) winograd_dweight;
  decltype(KernelTable::batchnorm_forward_train) batchnorm_forward_train;
  decltype(KernelTable::batchnorm_forward_eval) batchnorm_forward_eval;
  decltype(KernelTable::batchnorm_backward_train) batchnorm_backward_train;
  decltype(KernelTable::batchnorm_backward_eval) batchnorm_backward_eval;
};

KernelTable make_table(const char* isa, decltype(&sgemm_ref) gemm, decltype(&sgemm_nt_ref) gemm_nt,
                       const SimdKernels& k) {
  KernelTable t{};
  t.isa = isa;
  t.use_gemm = gemm != sgemm_ref;
  t.sgemm = gemm;
  t.sgemm_nt = gemm_nt;
  t.vec_lanes = k.lanes;
  t.conv2d_direct_forward = k.direct_forward;
  t.conv2d_direct_dweight = k.direct_dweight;
  t.conv2d_channel_forward = k.channel_forward;
  t.conv2d_channel_dweight = k.channel_dweight;
  t.conv2d_winograd_forward = k.winograd_forward;
  t.conv2d_winograd_dweight = k.winograd_dweight;
  t.conv2d_forward = conv2d_forward_ref;
  t.conv2d_backward = conv2d_backward_ref;
  t.maxpool2d_forward = maxpool2d_forward_ref;
  t.maxpool2d_2x2_forward = k.maxpool2d_2x2_forward;
  t.maxpool2d_backward = maxpool2d_backward_ref;
  t.maxpool2d_relu_backward = maxpool2d_relu_backward_ref;
  t.dense_forward = dense_forward_ref;
  t.dense_backward = dense_backward_ref;
  t.relu_forward = k.relu_forward;
  t.relu_backward = k.relu_backward;
  t.relu_mask = k.relu_mask;
  t.cross_entropy_forward = k.cross_entropy_forward;
  t.cross_entropy_backward = k.cross_entropy_backward;
  t.adam_step = k.adam_step;
  // Reference only: window means (exactly the former JS loops).
  t.window_mean_forward = window_mean_forward_ref;
  t.window_mean_backward = window_mean_backward_ref;
  // Reference only: upsampling is memory-bound (kernels/upsample/upsample.h).
  t.upsample2d_forward = upsample2d_forward_ref;
  t.upsample2d_backward = upsample2d_backward_ref;
  t.batchnorm_forward_train = k.batchnorm_forward_train;
  t.batchnorm_forward_eval = k.batchnorm_forward_eval;
  t.batchnorm_backward_train = k.batchnorm_backward_train;
  t.batchnorm_backward_eval = k.batchnorm_backward_eval;
  return t;
}

const KernelTable kRef = make_table(
    "ref", sgemm_ref, sgemm_nt_ref,
    {1, relu_forward_ref, relu_backward_ref, relu_mask_ref, cross_entropy_forward_ref, cross_entropy_backward_ref,
     adam_step_ref, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, batchnorm_forward_train_ref,
     batchnorm_forward_eval_ref, batchnorm_backward_train_ref, batchnorm_backward_eval_ref});

// pool2d_isa: the ISA's own 2x2 max pool, or `baseline` (WebAssembly: pool2d_baseline.cc's SIMD128 rows).
#define SN_SIMD_KERNELS(isa, lanes, pool2d_isa)                                                                     \
  SimdKernels {                                                                                                     \
    lanes, isa::relu_forward, isa::relu_backward, isa::relu_mask, isa::cross_entropy_forward,                       \
        isa::cross_entropy_backward, isa::adam_step, pool2d_isa::maxpool2d_2x2_forward, isa::conv2d_direct_forward, \
        isa::conv2d_direct_dweight, isa::conv2d_channel_forward, isa::conv2d_channel_dweight,                       \
        isa::conv2d_winograd_forward, isa::conv2d_winograd_dweight, isa::batchnorm_forward_train,                   \
        isa::batchnorm_forward_eval, isa::batchnorm_backward_train, isa::batchnorm_backward_eval                    \
  }
#if defined(SIMDNET_HAVE_X86_KERNELS)
const KernelTable kAvx2 = make_table("avx2", avx2::sgemm, avx2::sgemm_nt, SN_SIMD_KERNELS(avx2, 8, avx2));
const KernelTable kAvx512 = make_table("avx512", avx512::sgemm, avx512::sgemm_nt, SN_SIMD_KERNELS(avx512, 16, avx512));
#endif
#if defined(SIMDNET_HAVE_NEON_KERNELS)
const KernelTable kNeon = make_table("neon", neon::sgemm, neon::sgemm_nt, SN_SIMD_KERNELS(neon, 4, neon));
#endif
#if defined(SIMDNET_HAVE_WASM_KERNELS)
// WebAssembly engines keep about 8 accumulators in registers (common/vec.inc); the Winograd GEMM tiles hold 16 and
// would spill, so its 3x3 convs keep the direct tiles.
KernelTable without_winograd(KernelTable t) {
  t.conv2d_winograd_forward = nullptr;
  t.conv2d_winograd_dweight = nullptr;
  return t;
}
const KernelTable kSimd128 =
    without_winograd(make_table("simd128", simd128::sgemm, simd128::sgemm_nt, SN_SIMD_KERNELS(simd128, 4, baseline)));
#endif

// Tables this build has and this CPU can run, narrowest first.
std::vector<const KernelTable*> runnable_tables() {
  std::vector<const KernelTable*> tables{&kRef};
#if defined(SIMDNET_HAVE_X86_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) tables.push_back(&kAvx2);
  if (__builtin_cpu_supports("avx512f")) tables.push_back(&kAvx512);
#endif
#if defined(SIMDNET_HAVE_NEON_KERNELS)
  tables.push_back(&kNeon);
#endif
#if defined(SIMDNET_HAVE_WASM_KERNELS)
  tables.push_back(&kSimd128);  // engines without SIMD128 reject the whole module at load
#endif
  return tables;
}

const KernelTable* find_table(const std::string& name) {
  const auto tables = runnable_tables();
  if (name == "auto") return tables.back();
  for (const KernelTable* t : tables) {
    if (name == t->isa) return t;
  }
  return nullptr;
}

const KernelTable* initial_table() {
  const char* forced = std::getenv("SIMDNET_ISA");
  if (forced != nullptr && *forced != '\0') {
    // An unknown or unsupported SIMDNET_ISA falls back to the best table; kernelInfo() shows which ran.
    if (const KernelTable* t = find_table(forced)) return t;
  }
  return find_table("auto");
}

std::atomic<const KernelTable*> current{initial_table()};

}  // namespace

const KernelTable& kernels() { return *current.load(std::memory_order_acquire); }

std::vector<OpVariant> op_variants(const KernelTable& t) {
  // An op runs the reference when its pointer is the _ref kernel; conv2d and linear run the table's
  // GEMM and direct kernels whenever use_gemm is set.
  const auto from = [&](bool ref) { return ref ? "ref" : t.isa; };
  return {
      {"conv2d", from(!t.use_gemm)},
      {"maxpool2d", t.maxpool2d_2x2_forward == baseline::maxpool2d_2x2_forward
                        ? "baseline"
                        : from(t.maxpool2d_2x2_forward == nullptr && t.maxpool2d_forward == maxpool2d_forward_ref)},
      {"windowMean", from(t.window_mean_forward == window_mean_forward_ref)},
      {"upsample2d", from(t.upsample2d_forward == upsample2d_forward_ref)},
      {"linear", from(!t.use_gemm)},
      {"batchNorm", from(t.batchnorm_forward_train == batchnorm_forward_train_ref)},
      {"relu", from(t.relu_forward == relu_forward_ref)},
      {"crossEntropy", from(t.cross_entropy_forward == cross_entropy_forward_ref)},
      {"adam", from(t.adam_step == adam_step_ref)},
      // add_op is one loop of the baseline build for every table (memory-bound; activation_op.cc).
      {"add", std::strcmp(t.isa, "ref") == 0 ? "ref" : "baseline"},
  };
}

std::vector<std::string> supported_isas() {
  std::vector<std::string> names;
  for (const KernelTable* t : runnable_tables()) names.emplace_back(t->isa);
  return names;
}

bool set_isa(const std::string& name) {
  const KernelTable* t = find_table(name);
  if (t == nullptr) return false;
  current.store(t, std::memory_order_release);
  return true;
}

}  // namespace simdnet
