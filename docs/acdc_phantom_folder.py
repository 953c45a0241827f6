"""Build a folder of your own data from generated ACDC phantoms: 3-D volumes, a CSV.

The worked example of docs/own_data.md: `inside-keras prepare folder` reads the folder
this script writes exactly as it reads yours.

    python docs/acdc_phantom_folder.py OUT [--patients 20] [--seed 0] [--task phase]

writes

    OUT/images/<case>.nii.gz      the ED or ES frame of a phantom (its own header, affine)
    OUT/labels/<case>.nii.gz      its label map, with the same header
    OUT/conditions.csv            one row per case

Two tasks:

- `--task phase` (cases `patientNNN_ED`, `patientNNN_ES`): the label maps hold RV (1),
  MYO (2) and LV (3); the conditions are the phase (text), the diagnostic group (text),
  height and weight (numbers), and the patient, to keep a patient's two phases in one
  split (`--group-column patient`).
- `--task structure` (cases `patientNNN_ED_RV`, ... : each frame three times): the label
  map is the one structure the `structure` column names (1 inside it, 0 elsewhere).
  The image alone does not say which structure to segment; the condition does — a
  test of conditioning in 3-D (docs/own_data.md, "A 3-D conditioned run").

The phantoms are generated into `OUT/source/` (the published ACDC layout) first. OUT
must not exist.
"""

import argparse
import csv
import shutil
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

from inside_keras.data.acdc.phantom import generate_acdc
from inside_keras.data.acdc.reader import PHASES, STRUCTURES, frame_path, read_info

#: Class id of each structure in ACDC label maps.
STRUCTURE_IDS = {name: index + 1 for index, name in enumerate(STRUCTURES)}


def _binary_copy(label_path, structure, out_path):
    """Write the mask of `structure` from an ACDC label map, with its header."""
    label = nib.load(label_path)
    mask = (np.asarray(label.dataobj) == STRUCTURE_IDS[structure]).astype(np.uint8)
    nib.save(nib.Nifti1Image(mask, label.affine, label.header), out_path)


def build(out, patients, seed, task):
    """Generate `patients` phantoms and write the folder (see the module docstring)."""
    out = Path(out)
    source = out / "source"
    images, labels = out / "images", out / "labels"
    for folder in (images, labels):
        folder.mkdir(parents=True)
    rows = []
    for folder in generate_acdc(source, patients=patients, seed=seed):
        info = read_info(folder / "Info.cfg")
        common = {
            "group": info["Group"],
            "height": info["Height"],
            "weight": info["Weight"],
            "patient": folder.name,
        }
        for phase in PHASES:
            image = frame_path(folder, info[phase])
            label = frame_path(folder, info[phase], ground_truth=True)
            if task == "phase":
                case = f"{folder.name}_{phase}"
                shutil.copyfile(image, images / f"{case}.nii.gz")
                shutil.copyfile(label, labels / f"{case}.nii.gz")
                rows.append({"id": case, "phase": phase, **common})
                continue
            for structure in STRUCTURES:
                case = f"{folder.name}_{phase}_{structure}"
                shutil.copyfile(image, images / f"{case}.nii.gz")
                _binary_copy(label, structure, labels / f"{case}.nii.gz")
                rows.append({"id": case, "structure": structure, "phase": phase, **common})
    with open(out / "conditions.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to create")
    parser.add_argument("--patients", type=int, default=20, help="phantoms (20)")
    parser.add_argument("--seed", type=int, default=0, help="phantom seed (0)")
    parser.add_argument("--task", choices=("phase", "structure"), default="phase", help="(phase)")
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"{args.out} exists; give a new folder")
    if args.patients < 1:
        parser.error(f"--patients must be at least 1, got {args.patients}")
    cases = build(args.out, args.patients, args.seed, args.task)
    print(f"wrote {cases} cases to {args.out} (images/, labels/, conditions.csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
