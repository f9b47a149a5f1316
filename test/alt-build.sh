#!/usr/bin/env bash
# Builds the addon another way in a temporary folder (build/Release stays as it is) and runs the
# kernel, binding-fuzz and module tests on that build:
#   sanitize  AddressSanitizer + UndefinedBehaviorSanitizer, debug (npm run test:sanitize). node itself
#             is not instrumented, so libasan is preloaded and leak checking is off: V8 does not free
#             everything at exit.
#   serial    without OpenMP (npm run test:serial): the fallback for compilers without it, which must
#             give the same results; the build is checked not to link libgomp.
# Usage: bash test/alt-build.sh sanitize|serial [jest args...]   (Linux with g++)
set -euo pipefail
mode=${1:-}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/binding.gyp" "$root/native" "$work/"
mkdir -p "$work/node_modules"
ln -s "$root/node_modules/node-addon-api" "$work/node_modules/node-addon-api"

# npm passes its nodedir setting to node-gyp; the bundled node-gyp is on npm's script PATH.
build() { (cd "$work" && node-gyp rebuild "$@" >"$work/build.log" 2>&1) || { tail -n 30 "$work/build.log"; exit 1; }; }
case "$mode" in
  sanitize)
    flags='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
    CXXFLAGS="$flags" LDFLAGS='-fsanitize=address,undefined' build --debug
    export SIMDNET_ADDON_PATH="$work/build/Debug/simdnet.node"
    export LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  serial)
    build -- -Dsimdnet_openmp=false
    export SIMDNET_ADDON_PATH="$work/build/Release/simdnet.node"
    if ldd "$SIMDNET_ADDON_PATH" | grep -q gomp; then echo "serial build still links libgomp" >&2; exit 1; fi
    ;;
  *)
    echo "usage: bash test/alt-build.sh sanitize|serial [jest args...]" >&2
    exit 2
    ;;
esac
cd "$root"
node node_modules/.bin/jest test/native test/modules test/constructor-fuzz.test.ts "$@"
