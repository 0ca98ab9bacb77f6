#!/usr/bin/env bash
# The GPU measurement in one call, inside the unpacked bundle of scripts/gpu/pack.sh (no Node, no network needed):
# the adapter, the trainer's steps/s at batch 64 for the 64x64 RGB emoji DCGAN and cGAN on webgpu with the GPU time
# per program of one step, then PyTorch's steps/s for the same networks and batch. Each part has its own time limit,
# all well inside 10 minutes. Environment: STEPS (50), WARMUP (5), BATCH (64), TINY=1 (small networks, for a test on
# SwiftShader), GPU_ADAPTER (a name part), PYTHON (python3: one with torch), SKIP_PYTORCH=1; VK_DRIVER_FILES/VK_ICD_FILENAMES pick the Vulkan driver
# (default: NVIDIA's ICD where the machine has it).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NODEVICE_SELECT=1
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES="$nvidia_icd"; fi
steps="${STEPS:-50}" warmup="${WARMUP:-5}" batch="${BATCH:-64}"
tiny=() && [ "${TINY:-0}" = 1 ] && tiny=(--tiny)
adapter=() && [ -n "${GPU_ADAPTER:-}" ] && adapter=(--gpu-adapter "$GPU_ADAPTER")

echo "== machine: $(uname -m), node $("$here/bin/node" --version), Vulkan ICD: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-loader default}}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "== trainer on webgpu (tiled Conv2DBackpropFilter)"
timeout 240 "$here/bin/node" "$here/gpu-bench.mjs" --data "$here/emoji-64.bin.gz" --batch "$batch" --steps "$steps" --warmup "$warmup" "${tiny[@]}" "${adapter[@]}"
echo "rc=$?"
echo "== trainer on webgpu, tfjs's stock kernels (DCGAN only, no profile)"
TRAINER_WEBGPU_KERNELS=stock timeout 90 "$here/bin/node" "$here/gpu-bench.mjs" --data "$here/emoji-64.bin.gz" --batch "$batch" --steps "$steps" --warmup "$warmup" --families dcgan --no-profile "${tiny[@]}" "${adapter[@]}"
echo "rc=$?"
if [ "${SKIP_PYTORCH:-0}" != 1 ]; then
  size=() && [ "${TINY:-0}" = 1 ] && size=(--generator-channels 16,8,8,4 --discriminator-channels 4,8,8,16)
  for conditional in "" --conditional; do
    echo "== PyTorch ${conditional:-(dcgan)}"
    timeout 60 "${PYTHON:-python3}" "$here/pytorch-dcgan-reference.py" --data "$here/emoji-64.bin.gz" --image-size 64 --batch "$batch" --steps "$steps" --warmup-steps "$warmup" --fresh-z $conditional "${size[@]}"
    echo "rc=$?"
  done
fi
