#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (debug, in a temporary
# folder, so build/Release stays as it is) and runs the kernel, binding-fuzz and module tests on it.
# Usage: npm run test:sanitize   (Linux with g++; node itself is not instrumented, so libasan is
# preloaded and leak checking is off: V8 does not free everything at exit.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/binding.gyp" "$root/native" "$work/"
mkdir -p "$work/node_modules"
ln -s "$root/node_modules/node-addon-api" "$work/node_modules/node-addon-api"

flags='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
# npm passes its nodedir setting to node-gyp; the bundled node-gyp is on npm's script PATH.
(cd "$work" && CXXFLAGS="$flags" LDFLAGS='-fsanitize=address,undefined' node-gyp rebuild --debug >"$work/build.log" 2>&1) ||
  { tail -n 30 "$work/build.log"; exit 1; }

export SIMDNET_ADDON_PATH="$work/build/Debug/simdnet.node"
export LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$root"
node node_modules/.bin/jest test/native test/modules test/backend "$@"
