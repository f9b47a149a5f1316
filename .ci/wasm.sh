#!/usr/bin/env bash
# The WebAssembly backend in CI (issue 13), on small inputs: installs Emscripten and Chromium with apt when
# missing, builds build-wasm/ (both modules and the browser bundle), then runs the kernel and binding tests on
# the wasm backend, the wasm-vs-addon comparison, the program snapshots (napi shim externals) and the example page in headless Chromium. A missing build
# or browser fails here (SIMDNET_REQUIRE_WASM=1) instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v em++ > /dev/null || need+=(emscripten)
[ -x "${SIMDNET_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" > /dev/null
fi

npm run build:ts
npm run build:wasm
npm run build:browser
export SIMDNET_REQUIRE_WASM=1
# On Node's default wasm build, the threaded one (test/wasm/threads.test.ts compares it with the other).
SIMDNET_BACKEND=wasm npx jest test/native test/wasm test/browser test/modules/program-snapshot.test.ts \
  test/modules/predict-batcher.test.ts
# The one-thread build (the browsers' and Node's fallback) against the addon, and its Externals.
SIMDNET_BACKEND=wasm SIMDNET_WASM_BUILD=single npx jest test/wasm/backend.test.ts test/wasm/externals.test.ts
