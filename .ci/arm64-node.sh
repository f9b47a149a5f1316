#!/usr/bin/env bash
# Makes an arm64 Node.js runnable here under qemu-user: Debian's nodejs:arm64 (18.x, with libgomp1 for
# the addon's OpenMP) unpacked into DIR/root, fetched with a private apt state in DIR/apt so the machine's
# own dpkg architectures and package lists stay as they are. Writes DIR/node, a wrapper that runs it
# (qemu-aarch64-static -L DIR/root), and prints that path. Installs qemu-user-static when missing.
# Usage: bash .ci/arm64-node.sh DIR
set -euo pipefail
dir=${1:?usage: bash .ci/arm64-node.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if ! command -v qemu-aarch64-static > /dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static > /dev/null
fi
if [ ! -x "$dir/root/usr/bin/node" ]; then
  apt=(apt-get -qq -o "Dir::State=$dir/apt/state" -o "Dir::State::status=$dir/apt/status"
    -o "Dir::Cache=$dir/apt/cache" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  mkdir -p "$dir/apt/state/lists/partial" "$dir/apt/cache/archives/partial" "$dir/root"
  : > "$dir/apt/status" # nothing installed: download every dependency
  "${apt[@]}" update
  "${apt[@]}" install -y --download-only --no-install-recommends nodejs libgomp1 > /dev/null
  for deb in "$dir"/apt/cache/archives/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
fi
cat > "$dir/node" << WRAPPER
#!/bin/sh
exec qemu-aarch64-static -L "$dir/root" "$dir/root/usr/bin/node" "\$@"
WRAPPER
chmod +x "$dir/node"
echo "$dir/node"
