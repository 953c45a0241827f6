"""Put a prediction on a prepared volume back on its source grid.

`prepare folder --dims 3` moves a volume's on-disk axes `(H, W, D)` to `(D, H, W)`,
resamples it to the prepared spacing and crops or pads it centred to the prepared size,
recording per sample `source_shape`, `source_spacing` (both `(D, H, W)`), `spacing`,
`resampled_shape`, `offset` (where the window starts; negative where it padded) and the
source `affine`. `to_source_grid` undoes the three steps, so a perfect prediction of a
volume whose spacing was kept (or made finer) equals its source label map voxel for
voxel; `write_nifti` saves it with the source affine. Volumes cut into 2-D slices
(`--dims 2`) go back by `slices_to_volumes`.
"""

import numpy as np

from inside_keras.data.resample import resample, resize_plane, window
from inside_keras.runs.atomic import atomic_path

#: The per-sample arrays a prepared volume carries for the way back.
GEOMETRY = ("source_shape", "source_spacing", "spacing", "resampled_shape", "offset", "affine")


def has_geometry(arrays):
    """Whether prepared `arrays` are volumes with their source geometry."""
    return all(key in arrays for key in GEOMETRY)


def to_source_grid(labels, arrays, index):
    """Sample `index`'s label volume `(D, H, W)` on its source grid, as `(H, W, D)`.

    Args:
        labels: `(D, H, W)` class ids of the prepared sample.
        arrays: the prepared arrays (with `GEOMETRY`).
        index: the sample.
    """
    canvas = window(
        labels, tuple(-arrays["offset"][index]), tuple(arrays["resampled_shape"][index])
    )
    back = resample(
        canvas,
        tuple(arrays["spacing"][index]),
        tuple(arrays["source_spacing"][index]),
        order=0,
        shape=tuple(int(n) for n in arrays["source_shape"][index]),
    )
    return np.moveaxis(back, 0, 2)


def has_slice_geometry(arrays):
    """Whether prepared `arrays` are 2-D slices of volumes (`prepare folder --dims 2`)
    that carry the way back to their volumes."""
    return all(key in arrays for key in ("case", "slice_index", "source_shape", "affine"))


def slices_to_volumes(labels, arrays):
    """Each volume's slice predictions stacked back on its source grid.

    A volume prepared with `--dims 2` was cut into slices along its last axis, each
    resized to the prepared size; here each slice's labels are resized back to the
    volume's `(H, W)` (nearest) and stacked in `slice_index` order.

    Args:
        labels: `(N, H, W)` class ids on the prepared grid.
        arrays: the prepared arrays (`has_slice_geometry`).

    Yields:
        `(case, volume, affine)`: the case's name, its label volume `(H, W, D)` uint8
        and the source affine, in the order of the cases' first slices.
    """
    cases = np.asarray(arrays["case"])
    for case in dict.fromkeys(cases.tolist()):
        indices = np.flatnonzero(cases == case)
        indices = indices[np.argsort(arrays["slice_index"][indices])]
        size = tuple(int(n) for n in arrays["source_shape"][indices[0]])
        planes = [resize_plane(labels[i].astype(np.float32), size, order=0) for i in indices]
        yield str(case), np.stack(planes, axis=2).astype(np.uint8), arrays["affine"][indices[0]]


def write_nifti(labels, affine, path):
    """Write a label volume `(H, W, D)` as NIfTI with `affine`, atomically."""
    import nibabel

    image = nibabel.Nifti1Image(np.asarray(labels, dtype=np.uint8), np.asarray(affine))
    with atomic_path(path) as temporary:
        nibabel.save(image, temporary)


def source_grid_scores(labels, arrays, classes):
    """Dice and HD95 (mm) of each volume's prediction against its source label map, on
    the source grid at the source spacing (`inside_keras.evaluation.masks`, whose
    conventions for empty masks apply).

    Args:
        labels: `(N, D, H, W)` predicted class ids on the prepared grid.
        arrays: the prepared arrays (with `GEOMETRY` and `label_file`).
        classes: the class ids scored.

    Returns:
        A list of rows `{"name", "class", "dice", "hd95"}`, one per volume and class.

    Raises:
        InputError: a label map that is missing or whose shape is not the source shape.
    """
    import nibabel

    from inside_keras.data.nifti import READ_ERRORS
    from inside_keras.errors import InputError
    from inside_keras.evaluation.masks import dice, hd95

    rows = []
    for i, name in enumerate(arrays["name"]):
        path = str(arrays["label_file"][i])
        try:
            image = nibabel.load(path)
            truth = np.asarray(image.dataobj)
        except READ_ERRORS as error:
            raise InputError(f"cannot read the label map of {name} ({error})", path) from None
        prediction = to_source_grid(labels[i], arrays, i)
        if truth.shape != prediction.shape:
            raise InputError(
                f"{name}: label map of shape {truth.shape}, not the prepared source shape "
                f"{prediction.shape}",
                path,
            )
        spacing = tuple(float(z) for z in image.header.get_zooms()[:3])
        for c in classes:
            pred, true = prediction == c, truth == c
            rows.append({"name": str(name), "class": c, "dice": dice(pred, true)})
            rows[-1]["hd95"] = hd95(pred, true, spacing)
    return rows
