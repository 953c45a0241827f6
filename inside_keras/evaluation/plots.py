"""Figures: training curves, input / prediction / ground truth / attention grids, and
Bland–Altman plots.

Drawn through Matplotlib's object API (`matplotlib.figure.Figure`, rendered by Agg when
saved): no pyplot state and no global backend switch, so importing this module leaves a
notebook's backend alone. Every figure is written atomically by `save_figure`.
"""

import csv
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from inside_keras.runs.atomic import atomic_path

#: Resolution of the samples figure (`plot_samples`, `samples_figure`), in dots per inch.
SAMPLES_DPI = 90


def save_figure(figure, path, dpi):
    """Write `figure` to `path` atomically: a temporary file in the same folder, renamed.

    Args:
        figure: a `matplotlib.figure.Figure`.
        path: output file; its suffix (e.g. `.png`) gives the format.
        dpi: resolution in dots per inch.

    Returns:
        `path` as a `Path`.
    """
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    return path


def plot_training_curves(log_path, out_path):
    """Loss and Dice per epoch (train and validation) from a Keras CSV log."""
    with open(log_path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        return None
    epochs = [int(row["epoch"]) + 1 for row in rows]
    panels = [key for key in ("loss", "dice") if key in rows[0]]
    fig = Figure(figsize=(5 * len(panels), 3.5))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, key in zip(axes[0], panels, strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in rows[0]:
                values = [float(row[prefix + key]) for row in rows]
                ax.plot(epochs, values, style, label=(prefix or "train_") + key)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=100)


def _display(image):
    """An `(H, W, C)` image scaled to [0, 1] for `imshow`: RGB as it is (3 channels), else
    its first channel (one channel, or the first modality of several)."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape[-1] != 3:
        image = image[..., 0]
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def _nearest(plane, size):
    """`plane` resampled to `size` (rows, columns) by nearest neighbour: any ratio, e.g. a
    level's map of 10×7 drawn over an image of 75×50."""
    rows = np.arange(size[0]) * plane.shape[0] // size[0]
    columns = np.arange(size[1]) * plane.shape[1] // size[1]
    return plane[np.ix_(rows, columns)]


def plot_samples(images, truths, predictions, attentions, out_path, titles=None):
    """A grid like the paper's figure: one row a sample, columns input / prediction /
    ground truth / attention (mean over channels, upsampled to the image size).

    Args:
        images: `(N, H, W, C)` inputs.
        truths: `(N, H, W)` or `(N, H, W, 1)` masks or label maps (class ids).
        predictions: same shape as `truths`; both use one colour per class id.
        attentions: `(N, h, w, c)` attention maps, or None (column omitted).
        out_path: PNG path.
        titles: optional row titles (e.g. the condition).
    """
    figure = samples_figure(images, truths, predictions, attentions, titles)
    return save_figure(figure, out_path, dpi=SAMPLES_DPI)


def samples_figure(images, truths, predictions, attentions, titles=None):
    """The figure `plot_samples` writes (same arguments, without `out_path`)."""
    columns = ["input", "prediction", "ground truth"] + (
        ["attention"] if attentions is not None else []
    )
    n = len(images)
    top_label = max(1, int(max(np.max(truths), np.max(predictions))))  # same colours per class
    fig = Figure(figsize=(2.4 * len(columns), 2.4 * n), dpi=SAMPLES_DPI)
    axes = fig.subplots(n, len(columns), squeeze=False)
    for i in range(n):
        panels = [_display(images[i]), np.squeeze(predictions[i]), np.squeeze(truths[i])]
        if attentions is not None:
            attention = np.mean(np.asarray(attentions[i], dtype=np.float32), axis=-1)
            panels.append(_nearest(attention, images.shape[1:3]))
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            if j in (1, 2):
                ax.imshow(panel, cmap="viridis", vmin=0, vmax=top_label)
            else:
                ax.imshow(panel, cmap="gray" if j == 0 else "viridis")
            if j == 3:
                ax.imshow(_display(images[i]), alpha=0.35, cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(columns[j])
        if titles is not None:
            axes[i, 0].set_ylabel(titles[i])
    fig.tight_layout()
    return fig


def plot_bland_altman(panels, out_path, columns=4):
    """Bland–Altman plots, one panel per quantity: the difference prediction − reference
    against their mean, one point per case, with the bias and the limits of agreement.

    Args:
        panels: a list of `(title, pred, ref, stats)`: the panel's title (with its unit),
            the predicted and reference values (`nan` where undefined: not drawn) and a
            dict with `bias`, `loa_low` and `loa_high` (None or `nan` if undefined), as
            `inside_keras.evaluation.acdc.summary.agreement` gives.
        out_path: PNG path.
        columns: panels per row.
    """
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(3.6 * columns, 3.2 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (title, pred, ref, stats) in zip(axes, panels, strict=False):
        pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
        ax.scatter((pred + ref) / 2, pred - ref, s=14, color="tab:blue")
        for key, style in (("bias", "-"), ("loa_low", "--"), ("loa_high", "--")):
            value = stats[key]
            if value is not None and np.isfinite(value):
                ax.axhline(value, color="tab:red" if key == "bias" else "gray", linestyle=style)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("mean of prediction and reference", fontsize=8)
        ax.set_ylabel("prediction − reference", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=90)
