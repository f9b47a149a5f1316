#!/usr/bin/env bash
# Builds the N-API prebuilds that ship inside the package (npm run prebuilds; npm pack runs it from
# prepack): prebuilds/linux-x64/simdnet.glibc.node with the host g++, and
# prebuilds/linux-arm64/simdnet.glibc.node with Debian's cross compiler (g++-aarch64-linux-gnu).
# N-API: one file per platform serves every Node >= 20. node-gyp-build (lib/native.ts and the
# install script) picks the one that fits, so an install needs no compiler on those platforms.
# The build runs in a temporary folder: the clone's build/ stays as it is. Linux x64 hosts only.
# Usage: bash scripts/prebuilds.sh [x64] [arm64]   (both by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(x64 arm64)

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "prebuilds: built on Linux x64 only (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi
for arch in "${archs[@]}"; do
  if [ "$arch" = arm64 ] && ! command -v aarch64-linux-gnu-g++ > /dev/null; then
    echo "prebuilds: aarch64-linux-gnu-g++ is missing (Debian: apt-get install g++-aarch64-linux-gnu)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/binding.gyp" "$root/native" "$root/package.json" "$work/"
mkdir -p "$work/node_modules"
ln -s "$root/node_modules/node-addon-api" "$work/node_modules/node-addon-api"
# node-gyp takes the Node headers from npm's nodedir setting when there is one (else it downloads them).
if [ -z "${npm_config_nodedir:-}" ]; then
  nodedir=$(npm config get nodedir 2> /dev/null || true)
  if [ -n "$nodedir" ] && [ "$nodedir" != undefined ] && [ "$nodedir" != null ]; then
    export npm_config_nodedir=$nodedir
  fi
fi

# npm's own node-gyp (npm names it to scripts; else it sits beside npm).
node_gyp=${npm_config_node_gyp:-$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js}
# N-API builds do not depend on the Node version; --target only names the headers (this Node's).
prebuildify=("$root/node_modules/.bin/prebuildify" --napi --strip --tag-libc --target "$(node -p process.versions.node)"
  --node-gyp "$node_gyp" --out "$root" --cache "$work/cache")
for arch in "${archs[@]}"; do
  rm -rf "$root/prebuilds/linux-$arch" "$work/build"
  log="$work/$arch.log"
  case "$arch" in
    x64) (cd "$work" && "${prebuildify[@]}" > "$log" 2>&1) || { tail -n 30 "$log"; exit 1; } ;;
    arm64)
      (cd "$work" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
        AR=aarch64-linux-gnu-ar "${prebuildify[@]}" --arch arm64 --strip-bin aarch64-linux-gnu-strip > "$log" 2>&1) ||
        { tail -n 30 "$log"; exit 1; }
      ;;
    *)
      echo "prebuilds: unknown architecture $arch (x64 or arm64)" >&2
      exit 2
      ;;
  esac
  ls -l "$root/prebuilds/linux-$arch" >&2
done
