// SPDX-License-Identifier: MIT
// C++ kernel tests: every kernel of every ISA this build has and this CPU runs (AVX2, AVX-512 on
// x64; NEON on arm64, under qemu-user in CI) against the scalar references, on awkward sizes
// around each vector and register tile. No N-API: built by CMakeLists.txt or .ci/native-tests.sh.
// Usage: simdnet_kernel_tests [isa...]   (default: every supported ISA). Exit code 1 on any failure.
#include <cstdio>
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"

int main(int argc, char** argv) {
  using namespace simdnet;
  std::vector<std::string> isas(argv + 1, argv + argc);
  if (isas.empty()) isas = supported_isas();
  test::Tally tally;
  for (const std::string& isa : isas) {
    if (!set_isa(isa)) {
      std::printf("FAIL isa %s is not supported by this build and CPU\n", isa.c_str());
      return 1;
    }
    tally.isa = isa;
    const int before = tally.failed();
    const int64_t lanes = kernels().vec_lanes;
    test::test_gemm(tally, lanes);
    test::test_elementwise(tally, lanes);
    test::test_conv(tally, lanes);
    test::test_dense_pool(tally, lanes);
    test::test_maxpool_2x2(tally);
    test::test_upsample(tally, lanes);
    test::test_program(tally, lanes);
    std::printf("isa %s (%lld lanes): %s\n", isa.c_str(), static_cast<long long>(lanes),
                tally.failed() == before ? "ok" : "FAILED");
  }
  test::test_thread_trials(tally);
  test::test_pool(tally);
  std::printf("%d passed, %d failed\n", tally.passed(), tally.failed());
  return tally.failed() == 0 ? 0 : 1;
}
