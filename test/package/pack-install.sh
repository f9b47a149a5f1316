#!/usr/bin/env bash
# The package as a user gets it (run by .ci/run; a few minutes):
#   1. npm pack: prepack builds the linux-x64 and linux-arm64 prebuilds, prepare builds dist/.
#   2. The tarball holds both prebuilds (the arm64 one checked with `file`), dist/ and docs/, no build output.
#   3. A fresh project installs it with --ignore-scripts and no compiler on PATH, then trains LeNet one
#      epoch on generated images and predicts (test/package/consumer-train.mjs) on the x64 prebuild.
#   4. The same on the arm64 prebuild with Debian's arm64 Node under qemu-user (.ci/arm64-node.sh).
#   5. A strict TypeScript client (skipLibCheck: false) compiles against the installed .d.ts with
#      TypeScript 5.9 (this repo's) and TypeScript 7 (installed into the temporary project).
# Prints what it measured (tarball size, install and training times). Usage: bash test/package/pack-install.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/package"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v file > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq file > /dev/null; }

# 1. Pack (builds the prebuilds). SIMDNET_PACKED=file.tgz tests an existing tarball instead.
if [ -n "${SIMDNET_PACKED:-}" ]; then
  tarball=$(cd "$(dirname "$SIMDNET_PACKED")" && pwd)/$(basename "$SIMDNET_PACKED")
else
  t=$(now)
  (cd "$root" && npm pack --pack-destination "$work" > "$work/pack.log" 2>&1) || { tail -n 40 "$work/pack.log"; fail "npm pack"; }
  tarball=$(ls "$work"/simdnet-*.tgz)
  echo "pack (prebuilds for x64 and arm64, dist/): $(since "$t") s"
fi
# 2. Contents.
tar -tzf "$tarball" > "$work/files.txt"
for f in package/prebuilds/linux-x64/simdnet.glibc.node package/prebuilds/linux-arm64/simdnet.glibc.node \
  package/dist/index.js package/dist/index.d.ts package/docs/architecture.md package/native/sources.json \
  package/binding.gyp package/README.md; do
  grep -qx "$f" "$work/files.txt" || fail "the tarball lacks $f"
done
if grep -Eq '^package/(build|build-cmake|lib|test|native/tests)/' "$work/files.txt"; then
  fail "the tarball holds build output or sources that do not ship"
fi
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
echo "tarball: $(du -k "$tarball" | cut -f1) KiB, $(du -sk "$work/unpacked/package" | cut -f1) KiB unpacked, $(wc -l < "$work/files.txt") files"
file -b "$work/unpacked/package/prebuilds/linux-arm64/simdnet.glibc.node" | grep -q 'ARM aarch64' ||
  fail "the arm64 prebuild is not an aarch64 ELF"
file -b "$work/unpacked/package/prebuilds/linux-x64/simdnet.glibc.node" | grep -q 'x86-64' ||
  fail "the x64 prebuild is not an x86-64 ELF"

# 3. A fresh project, no compiler: PATH holds node and npm only.
mkdir "$work/bin" "$work/app"
ln -s "$(command -v node)" "$work/bin/node"
ln -s "$(command -v npm)" "$work/bin/npm"
for tool in cc gcc g++ c++ clang make python3 python; do
  if PATH="$work/bin" command -v "$tool" > /dev/null; then fail "$tool is on the compiler-free PATH"; fi
done
echo '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }' > "$work/app/package.json"
t=$(now)
(cd "$work/app" && PATH="$work/bin" npm install --ignore-scripts --no-audit --no-fund "$tarball" > "$work/install.log" 2>&1) ||
  { cat "$work/install.log"; fail "npm install --ignore-scripts"; }
echo "install (--ignore-scripts, no compiler): $(since "$t") s"
[ ! -e "$work/app/node_modules/simdnet/build" ] || fail "something was compiled at install"
cp "$here/consumer-train.mjs" "$work/app/"
t=$(now)
out=$(cd "$work/app" && PATH="$work/bin" node consumer-train.mjs) || fail "training in the fresh project: $out"
echo "x64 prebuild, one epoch of 1280 images + predict: $out ($(since "$t") s with start-up)"
echo "$out" | grep -q '"arch":"x64"' || fail "not the x64 prebuild"

# 4. The arm64 prebuild under qemu (Node 18, Debian's arm64 package; the engines field says >= 20, and
#    the N-API 8 addon loads in 18 too), on fewer images (emulation is slow). Its loss must match the
#    x64 run's on the same images: NEON and AVX sum in different orders, so only to rounding.
arm_node=$(bash "$root/.ci/arm64-node.sh" "${SIMDNET_ARM64_NODE_DIR:-$work/arm64}" | tail -n 1)
x64=$(cd "$work/app" && PATH="$work/bin" node consumer-train.mjs 640) || fail "training 640 images on x64: $x64"
t=$(now)
arm=$(cd "$work/app" && "$arm_node" consumer-train.mjs 640) || fail "training on arm64 under qemu: $arm"
echo "arm64 prebuild under qemu, one epoch of 640 images + predict: $arm ($(since "$t") s)"
echo "$arm" | grep -q '"isa":"neon"' || fail "the arm64 prebuild did not run the NEON kernels"
node -e '
  const [a, b] = process.argv.slice(1).map((s) => JSON.parse(s));
  const d = Math.abs(a.trainLoss - b.trainLoss);
  console.log(`arm64 vs x64 (${b.isa}) training loss: |${a.trainLoss} - ${b.trainLoss}| = ${d.toExponential(2)}`);
  if (!(d < 1e-3)) process.exit(1);
' "$arm" "$x64" || fail "arm64 and x64 training losses differ"

# 5. TypeScript clients, strict, skipLibCheck false.
cp "$here/client.ts" "$here/tsconfig.client.json" "$work/app/"
(cd "$work/app" && npm install --no-audit --no-fund --no-save @types/node@20 > "$work/types.log" 2>&1) ||
  { cat "$work/types.log"; fail "npm install @types/node"; }
# tsc NAME BIN: compiles the client, printing the version and any error.
tsc() {
  local version
  version=$("$2" --version | cut -d' ' -f2)
  (cd "$work/app" && "$2" -p tsconfig.client.json) || fail "the strict client does not compile with TypeScript $version"
  echo "$1 $version: the strict client (skipLibCheck false) compiles"
}
tsc "TypeScript (this repo's)" "$root/node_modules/typescript/bin/tsc"
(cd "$work/app" && npm install --no-audit --no-fund --no-save typescript@7 > "$work/ts7.log" 2>&1) ||
  { cat "$work/ts7.log"; fail "npm install typescript@7"; }
tsc "TypeScript (npm install typescript@7)" "$work/app/node_modules/.bin/tsc"
echo "package test passed"
