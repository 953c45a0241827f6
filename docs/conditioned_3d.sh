#!/usr/bin/env bash
# A 3-D conditioned run that has to use its condition (docs/own_data.md, "A 3-D
# conditioned run"): ACDC phantom volumes, each given three times with the condition
# naming the one structure (RV, MYO or LV) whose mask is the target. A 3-D U-Net
# without conditioning cannot tell which structure is asked for; with INSIDE in the
# bottleneck it can. Both are trained alike and scored on the same test volumes.
#
#   bash docs/conditioned_3d.sh OUT [EPOCHS]      # OUT must not exist; EPOCHS 30
set -euo pipefail
out=${1:?usage: conditioned_3d.sh OUT [EPOCHS]}
epochs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
python "$here/acdc_phantom_folder.py" "$out/folder" --patients 20 --task structure
inside-keras prepare folder --images "$out/folder/images" --labels "$out/folder/labels" \
    --conditions "$out/folder/conditions.csv" --condition-columns structure \
    --group-column patient --dims 3 --spacing 12 4 4 --size 8 48 48 --out "$out/structures.npz"
for conditioning in none inside; do
    cat > "$out/$conditioning.yaml" <<YAML
data: {path: $out/structures.npz}
model: {architecture: unet, conditioning: $conditioning, placement: bottleneck, depth: 3,
        base_filters: 8, norm: instance}
training: {epochs: $epochs, batch_size: 4, learning_rate: 0.003, loss: bce_dice, patience: 10}
output: {dir: $out/$conditioning}
YAML
    inside-keras train --config "$out/$conditioning.yaml" --quiet | tail -n 1
    inside-keras evaluate --model "$out/$conditioning/model.keras" --data "$out/structures.npz" \
        --csv "$out/$conditioning.csv"
done
