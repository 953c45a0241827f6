"""Draw `acdc_phantom.png`: one phantom patient, ED and ES, slices from base to apex.

    PYTHONPATH=. python docs/figures/acdc_phantom.py [OUT.png]

Generates one patient into a temporary folder with `generate_acdc`, reads it back with
the ACDC reader (as `prepare` does), and shows each phase's image with and without the
label overlay (RV blue, MYO green, LV red).
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from inside_keras.data.acdc.phantom import generate_acdc
from inside_keras.data.acdc.reader import PHASES, read_patient
from inside_keras.evaluation.plots import save_figure

#: Overlay colours of RV, MYO, LV (background transparent).
COLOURS = ListedColormap(
    [(0, 0, 0, 0), (0.2, 0.4, 1, 0.55), (0.1, 0.8, 0.2, 0.55), (1, 0.2, 0.2, 0.55)]
)


def plot_patient(patient, path, n_slices=4):
    """Save a grid: rows ED image, ED labels, ES image, ES labels; columns base to apex."""
    depth = patient.frames[0].image.shape[2]
    columns = np.linspace(0, depth - 1, n_slices).round().astype(int)
    figure = Figure(figsize=(2.2 * n_slices, 9))
    axes = figure.subplots(4, n_slices, squeeze=False)
    for phase_index, phase in enumerate(PHASES):
        frame = patient.frame(phase)
        high = np.percentile(frame.image, 99.5)
        for column, index in enumerate(columns):
            for overlay in (False, True):
                axis = axes[2 * phase_index + overlay, column]
                axis.imshow(frame.image[:, :, index], cmap="gray", vmin=0, vmax=high)
                if overlay:
                    axis.imshow(
                        frame.label[:, :, index],
                        cmap=COLOURS,
                        vmin=0,
                        vmax=3,
                        interpolation="nearest",
                    )
                axis.set_xticks([])
                axis.set_yticks([])
                if phase_index == 0 and not overlay:
                    axis.set_title(
                        f"slice {index} (position {index / (depth - 1):.2f})", fontsize=9
                    )
            axes[2 * phase_index, 0].set_ylabel(f"{phase} (frame {frame.number})")
            axes[2 * phase_index + 1, 0].set_ylabel(f"{phase} labels")
    spacing = patient.frames[0].spacing
    figure.suptitle(
        f"ACDC phantom {patient.name} (group {patient.info['Group']}), "
        f"{spacing[0]:.2f} mm pixels, {spacing[2]:g} mm slices: base → apex\n"
        "RV blue, MYO green, LV red",
        fontsize=10,
    )
    figure.tight_layout()
    save_figure(figure, path, dpi=72)


def main(out="docs/figures/acdc_phantom.png"):
    with tempfile.TemporaryDirectory() as folder:
        (patient_folder,) = generate_acdc(folder, patients=1, seed=0)
        plot_patient(read_patient(patient_folder), Path(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
