#!/usr/bin/env bash
# The GAN recipe's ablation on a GPU machine in one call (issue 28): PyTorch only, no Node. Every recipe trains
# the emoji DCGAN of emoji-dcgan's size with the PyTorch reference (scripts/pytorch-dcgan-reference.py, which
# builds the trainer's networks and takes its recipe flags), all at once on the one GPU (at this size a step is
# bound by kernel launches, so parallel processes share the chip well), and exports the generator to ONNX at
# several epochs. Measuring happens back here, with the project's ruler:
#   for d in OUT/*/pytorch-e*; do npm run eval -- "$d" --n 2000; done
#
# Usage (on the GPU machine, from the repository root):
#   bash scripts/gpu/recipe-ablation.sh DATA.bin.gz OUT [EPOCHS] [EXPORT_EPOCHS]
# DATA.bin.gz: gzip of the trainer's decoded cache of data/emoji (the path is in `npm run train`'s data: line).
# Defaults: 200 epochs (11,800 steps of 64), exports at 50,100,150,200. CONDITIONAL=1 ablates the cGAN instead;
# EXTRA adds flags to every run (a smoke test here: EXTRA="--limit 128 --batch 16 --base-channels 16").
set -euo pipefail
DATA=${1:?usage: recipe-ablation.sh DATA.bin.gz OUT [EPOCHS] [EXPORT_EPOCHS]}
OUT=${2:?usage: recipe-ablation.sh DATA.bin.gz OUT [EPOCHS] [EXPORT_EPOCHS]}
EPOCHS=${3:-200}
EXPORTS=${4:-50,100,150,200}
PY=${PYTHON:-python3}
mkdir -p "$OUT"

base="--flip --ema 0.999"
sn="--loss hinge --discriminator-norm spectral"
ttur="--learning-rate 1e-4 --discriminator-learning-rate 4e-4"
declare -A recipes=(
  [plain]=""
  [flip-ema]="$base"
  [hinge-sn]="$base $sn"
  [hinge-sn-ttur]="$base $sn $ttur"
  [hinge-sn-ttur-nearest]="$base $sn $ttur --upsample nearest"
  [hinge-sn-ttur-nearest-r1]="$base $sn $ttur --upsample nearest --r1-gamma 1"
  [hinge-sn-ttur-nearest-diffaug]="$base $sn $ttur --upsample nearest --diff-augment translation"
  # R1 on the batch-norm D: 2.79 against 3.53 at 93 epochs on the CPU (docs/training.md); its gamma, and with nearest.
  [flip-ema-r1-0.1]="$base --r1-gamma 0.1"
  [flip-ema-r1-0.03]="$base --r1-gamma 0.03"
  [flip-ema-r1-0.3]="$base --r1-gamma 0.3"
  [flip-ema-r1-0.1-nearest]="$base --r1-gamma 0.1 --upsample nearest"
)
cond=""
if [ "${CONDITIONAL:-0}" = 1 ]; then
  cond="--conditional"
  recipes[hinge-sn-ttur-nearest-projection]="$base $sn $ttur --upsample nearest --conditioning projection"
fi

nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader || true
started=$(date +%s)
for name in "${!recipes[@]}"; do
  # shellcheck disable=SC2086
  $PY scripts/pytorch-dcgan-reference.py --data "$DATA" --epochs "$EPOCHS" --export-epochs "$EXPORTS" --grid-every 25 \
    --out "$OUT/$name" $cond ${recipes[$name]} ${EXTRA:-} > "$OUT/$name.log" 2>&1 &
done
wait
for name in "${!recipes[@]}"; do
  echo "$name: $(grep "^{" "$OUT/$name.log" | tail -n 1)"
done
echo "all recipes: $(( $(date +%s) - started )) s"
