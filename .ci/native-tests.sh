#!/usr/bin/env bash
# The cmake-js build (npm run build:cmake: CMakeLists.txt, from native/sources.json) of the addon and,
# from the same objects, of the C++ kernel tests (native/tests); the kernel tests on this machine's
# ISAs (ref, AVX2, AVX-512 as the CPU allows) and the jest kernel tests on that addon; then the kernel
# tests cross-compiled for arm64 and run under qemu-user (ref and NEON). Installs cmake, qemu-user-static and g++-aarch64-linux-gnu when missing. Usage: bash .ci/native-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

missing=()
command -v file > /dev/null || missing+=(file)
command -v cmake > /dev/null || missing+=(cmake)
command -v qemu-aarch64-static > /dev/null || missing+=(qemu-user-static)
command -v aarch64-linux-gnu-g++ > /dev/null || missing+=(g++-aarch64-linux-gnu)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi

# build NAME [cmake args...]: configures and builds the kernel tests alone in $work/NAME.
build() {
  local name=$1
  shift
  local t
  t=$(now)
  { cmake -S . -B "$work/$name" -DSIMDNET_KERNEL_TESTS=ON "$@" && cmake --build "$work/$name" -j 2; } > "$work/$name.log" 2>&1 ||
    { tail -n 40 "$work/$name.log"; exit 1; }
  echo "kernel tests ($name) built in $(since "$t") s"
}

# The addon and the kernel tests with cmake-js; the jest kernel tests load only that addon.
t=$(now)
npm run build:cmake -- --CDSIMDNET_KERNEL_TESTS=ON > "$work/cmake-js.log" 2>&1 || { tail -n 40 "$work/cmake-js.log"; exit 1; }
echo "cmake-js: addon and kernel tests built in $(since "$t") s"
build-cmake/simdnet_kernel_tests
SIMDNET_ADDON_PATH="$PWD/build-cmake/Release/simdnet.node" node node_modules/.bin/jest test/native

# arm64: the cross compiler's own sysroot holds the C++ runtime and libgomp the test program needs.
sysroot=$(dirname "$(dirname "$(aarch64-linux-gnu-g++ -print-file-name=libc.so.6)")")
build arm64 -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++
file -b "$work/arm64/simdnet_kernel_tests" | grep -q 'ARM aarch64'
t=$(now)
qemu-aarch64-static -L "$sysroot" "$work/arm64/simdnet_kernel_tests" | tee "$work/arm64.txt"
grep -q '^isa neon (4 lanes): ok$' "$work/arm64.txt" # NEON really ran
echo "arm64 kernel tests under qemu: $(since "$t") s"
