"""Figures for the documentation: `python docs/make_figures.py [OUT_DIR]`.

Writes `clevr_seg_samples.png`: 8 synthetic CLEVR-Seg images (top row) and their
object masks (bottom row, one colour per object), written by `generate clevr-seg`
and read back through the CLEVR-Seg reader.
"""

import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from inside_keras.data.clevr_seg import reader as clevr_seg
from inside_keras.data.clevr_seg import synthetic as clevr_synthetic
from inside_keras.evaluation.plots import save_figure

FIGURES = Path(__file__).resolve().parent / "figures"


def clevr_seg_samples(out, n=8, size=200, seed=0):
    """Plot `n` generated images over their object masks; save to `out`."""
    with tempfile.TemporaryDirectory() as folder:
        options = clevr_synthetic.GenerateOptions(n=n, size=size, seed=seed)
        clevr_synthetic.generate(folder, options)
        scenes = [clevr_seg.read_example(folder, name) for name in clevr_seg.list_names(folder)]
    figure = Figure(figsize=(2 * n, 4.3))
    axes = figure.subplots(2, n)
    colours = matplotlib.colormaps["tab10"].colors
    for column, scene in enumerate(scenes):
        labels = np.ones((size, size, 3))
        for number, mask in enumerate(scene.masks):
            labels[mask] = colours[number % len(colours)]
        axes[0, column].imshow(scene.image)
        axes[0, column].set_title(f"{scene.name[-3:]}: {len(scene.objects)} objects", fontsize=9)
        axes[1, column].imshow(labels)
        for axis in axes[:, column]:
            axis.set_xticks([])
            axis.set_yticks([])
    axes[0, 0].set_ylabel("image")
    axes[1, 0].set_ylabel("object masks")
    figure.suptitle(f"Synthetic CLEVR-Seg (generate clevr-seg --seed {seed})", fontsize=11)
    figure.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return save_figure(figure, out, dpi=100)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else FIGURES
    print(clevr_seg_samples(out_dir / "clevr_seg_samples.png"))


if __name__ == "__main__":
    main()
