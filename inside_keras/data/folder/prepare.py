"""Prepare a folder of images, label maps and a condition table into 2-D samples.

Per case (`inside_keras.data.folder.reader`): the image is normalised over the case
(`zscore`: mean 0 and standard deviation 1; `minmax`: [0, 1]; `none`), a 3-D volume is
cut into slices along its last spatial axis, and each 2-D sample is resized to `size`
(image bilinear, label map nearest). `z` is the case's condition row encoded by a
`ConditionEncoding` fitted on the training cases (`conditions`), with the normalised
slice position `k / (D - 1)` appended for volumes when `slice_position` is set. A gap in
the table (an empty cell, `NA`, `NaN`, ...) is an error unless `missing="indicator"`:
then it is filled (the training mean, or all zeros) and flagged by a `NAME:missing`
entry right after its column's entries in `z`.

Splits are by case (all slices of a case in one split), taken from a split column of
the table, or drawn with `val_fraction`, `test_fraction` and `seed` over groups (a
group column, e.g. the patient, else each case its own group).

Label maps with class ids 0 and 1 only give a binary task (`y` float32 `(N, H, W, 1)`);
more classes give `y` uint8 `(N, H, W)` class ids. Besides `x`, `y`, `z`, `split` and
`name` (`case` or `case_sliceK`), each sample has `case`, `slice_index`,
`slice_position` and `source_shape` (the image's or the volume's `(H, W)`), a slice of a
volume also the volume's `affine`; the prepared file's metadata
(`inside_keras.data.prepared`) holds the condition encoding (with its gap policy), the
number of gaps per column, the class names and the options.

`prepare_new_cases` prepares new cases (images and a table, no label maps) exactly so,
with the stored encoding; an unknown category there is an error unless
`unknown="ignore"`.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from inside_keras.data.folder.conditions import MISSING, UNKNOWN, ConditionEncoding, read_table
from inside_keras.data.folder.reader import find_cases, read_case
from inside_keras.data.resample import centred_start, resample, resize_plane, window
from inside_keras.data.splits import split_groups
from inside_keras.errors import InputError

#: Intensity normalisations, per case.
NORMALISATIONS = ("zscore", "minmax", "none")
#: Split names a split column may hold.
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class FolderOptions:
    """Options of `prepare_folder` (the `inside-keras prepare folder` flags).

    Attributes:
        id_column: the table's case column.
        condition_columns: the condition columns in `z`'s order (empty: every column
            but the id, split and group columns).
        size: `(H, W)` of the samples, or None to keep the images' (all must agree).
        normalise: one of `NORMALISATIONS`.
        slice_position: append the normalised slice position of a volume's slices to `z`.
        split_column: a table column of train/val/test, or None to draw the splits.
        group_column: a table column whose cases stay in one split, or None.
        val_fraction: share of groups for validation (drawn splits).
        test_fraction: share of groups for testing (drawn splits).
        seed: seed of the drawn splits.
        class_names: names of the class ids (`{0: "background", ...}`), or None.
        dims: 2 (2-D samples: images, or slices of volumes) or 3 (volumes).
        spacing: `--dims 3`: the voxel size `(D, H, W)` in mm volumes are resampled to
            (None: each keeps its own).
        missing: gaps in the condition columns: `"error"`, or `"indicator"` (filled, and
            a 0/1 entry after each column with gaps; see `conditions`).
    """

    id_column: str = "id"
    condition_columns: tuple = ()
    size: tuple | None = None
    normalise: str = "zscore"
    slice_position: bool = False
    split_column: str | None = None
    group_column: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    seed: int = 0
    class_names: dict | None = None
    dims: int = 2
    spacing: tuple | None = None
    missing: str = "error"

    def to_dict(self):
        """The options as JSON-able values (kept in the prepared data's metadata)."""
        values = dataclasses.asdict(self)
        if self.class_names is not None:
            values["class_names"] = {str(key): name for key, name in self.class_names.items()}
        return values

    @classmethod
    def from_dict(cls, values):
        """The options `to_dict` wrote."""
        values = dict(values)
        for key in ("condition_columns", "size", "spacing"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        if values.get("class_names") is not None:
            values["class_names"] = {int(k): name for k, name in values["class_names"].items()}
        return cls(**values)

    def __post_init__(self):
        from inside_keras.config import check_choice

        check_choice(self.normalise, NORMALISATIONS, "normalise")
        check_choice(self.dims, (2, 3), "dims")
        check_choice(self.missing, MISSING, "missing")
        if self.size is not None and (
            len(self.size) != self.dims or any(int(side) < 1 for side in self.size)
        ):
            sides = "D H W" if self.dims == 3 else "H W"
            raise InputError(f"must be {self.dims} positive sides {sides}, got {self.size}", "size")
        if self.spacing is not None:
            if self.dims != 3:
                raise InputError("is for --dims 3 (volumes resampled to it)", "spacing")
            if len(self.spacing) != 3 or not all(
                np.isfinite(value) and value > 0 for value in self.spacing
            ):
                raise InputError(f"must be 3 positive mm D H W, got {self.spacing}", "spacing")


def parse_class_names(text):
    """`"0:background,1:lesion"` -> `{0: "background", 1: "lesion"}`."""
    names = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, colon, name = part.partition(":")
        if not colon or not key.strip().isdigit() or not name.strip():
            raise InputError(f"expected ID:NAME pairs, got {part!r}", "labels_map")
        names[int(key)] = name.strip()
    if not names:
        raise InputError(f"expected ID:NAME pairs, got {text!r}", "labels_map")
    return names


@dataclass
class FolderResult:
    """Prepared arrays and their metadata (for `save_prepared`)."""

    arrays: dict
    metadata: dict


def _normalised(image, how):
    if how == "zscore":
        std = float(image.std())
        return (image - image.mean()) / (std if std > 0 else 1.0)
    if how == "minmax":
        low, high = float(image.min()), float(image.max())
        return (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image


def _splits(cases, rows, options, source):
    if options.split_column is not None:
        splits = {case: rows[case][options.split_column] for case in cases}
        bad = sorted({value for value in splits.values() if value not in SPLITS})
        if bad:
            raise InputError(
                f"column {options.split_column!r} holds {bad[:5]}; allowed: {list(SPLITS)}",
                source,
            )
        return splits
    groups = {
        case: rows[case][options.group_column] if options.group_column else case for case in cases
    }
    by_group = split_groups(
        list(groups.values()), options.val_fraction, options.test_fraction, options.seed
    )
    return {case: by_group[group] for case, group in groups.items()}


def _check_rows(cases, rows, options, table):
    missing = [case.case_id for case in cases if case.case_id not in rows]
    if missing:
        raise InputError(
            f"no row for the cases {missing[:5]} (column {options.id_column!r})", table
        )


def _check_columns(columns, options, source):
    for flag, name in (
        ("--split-column", options.split_column),
        ("--group-column", options.group_column),
        *(("--condition-columns", name) for name in options.condition_columns),
    ):
        if name is not None and name not in columns:
            raise InputError(f"{flag}: no column {name!r}; its columns: {columns}", source)
    if options.condition_columns:
        return list(options.condition_columns)
    reserved = {options.id_column, options.split_column, options.group_column}
    return [name for name in columns if name not in reserved]


def prepare_folder(images, labels, table, options, progress=None):
    """Prepare a folder of images and label maps with a condition table.

    Args:
        images: the folder of images.
        labels: the folder of label maps.
        table: the condition table (CSV).
        options: `FolderOptions`.
        progress: optional callable `progress(done, total)`, called after each case.

    Returns:
        A `FolderResult`.

    Raises:
        InputError: any bad file, a case missing from the table, a gap (unless
            `options.missing` is `"indicator"`), images whose shapes differ without
            `size`, channels that differ between cases.
    """
    columns, rows = read_table(table, options.id_column)
    names = _check_columns(columns, options, table)
    cases = find_cases(images, labels)
    _check_rows(cases, rows, options, table)
    used = {case.case_id: rows[case.case_id] for case in cases}
    splits = _splits(list(used), used, options, table)
    training = [case for case, split in splits.items() if split == "train"]
    encoding = ConditionEncoding.fit(used, names, training, source=table, missing=options.missing)

    samples, is_volume = _case_samples(cases, rows, encoding, options, table, progress)
    for sample in samples:
        sample["split"] = splits[sample["case"]]
    shapes = {sample["x"].shape[:-1] for sample in samples}
    if len(shapes) > 1:
        raise InputError(f"samples have different sizes {sorted(shapes)[:4]}; give --size", images)
    result = _result(samples, encoding, options, is_volume)
    result.metadata["conditions"]["gaps"] = encoding.gaps(used)
    return result


def _case_samples(cases, rows, encoding, options, table, progress=None, **encode):
    """`(samples, is_volume)`: each case read, checked against the first one, cut into
    its samples (dicts of per-sample values, `y` only for cases with a label map);
    `encode`: `unknown` and `notes` of `ConditionEncoding.encode`."""
    samples, channels, is_volume = [], None, None
    for done, case in enumerate(cases, start=1):
        loaded = read_case(case)
        volume = loaded.image.ndim == 4
        if channels is None:
            channels, is_volume = loaded.image.shape[-1], volume
        elif loaded.image.shape[-1] != channels or volume != is_volume:
            raise InputError(
                f"case {case.case_id!r}: {loaded.image.shape} differs from the first case's "
                f"channels ({channels}) or dimensions",
                case.images[0],
            )
        if options.dims == 3 and not volume:
            raise InputError("--dims 3 needs 3-D volumes (NIfTI); this is 2-D", case.images[0])
        z = encoding.encode(case.case_id, rows[case.case_id], source=table, **encode)
        cut = _volume_sample if options.dims == 3 else _plane_samples
        samples.extend({**sample, "case": case.case_id} for sample in cut(case, loaded, z, options))
        if progress is not None:
            progress(done, len(cases))
    return samples, is_volume


def prepare_new_cases(images, table, metadata, progress=None, unknown="error", notes=None):
    """Prepare new cases, without label maps, exactly as a prepared dataset was.

    Args:
        images: the folder of the new cases' images.
        table: their condition table (the columns the dataset was prepared with).
        metadata: the prepared dataset's metadata (`load_metadata`), written by
            `prepare_folder`: its options and condition encoding are applied unchanged
            (its gap policy included).
        progress: optional callable `progress(done, total)`.
        unknown: an unknown category: `"error"`, or `"ignore"` (all zeros for its column).
        notes: an `EncodingNotes` recording the unknown categories ignored and the gaps
            filled in columns without an indicator (for a warning), or None.

    Returns:
        The arrays of the new samples (`x`, `z`, `name`, `case` and the geometry the
        predictions are put back with), without `y` and `split`. New cases kept at
        their own size (no `--size`: images, or volumes at their native grid) may differ
        in size: `x` is then a list of the samples' arrays rather than one array.

    Raises:
        InputError: a dataset not prepared by `prepare folder`, a table without one of
            its condition columns, a case without a row, a gap the encoding does not
            allow or an unknown category (naming the case and the column).
    """
    import json

    from inside_keras.config import check_choice

    check_choice(unknown, UNKNOWN, "--unknown")

    if metadata.get("source") != "folder" or "options" not in metadata:
        raise InputError("new cases can be prepared only like a `prepare folder` dataset", "--data")
    options = FolderOptions.from_dict(metadata["options"])
    encoding = ConditionEncoding.from_json(json.dumps(metadata["conditions"]["encoding"]))
    columns, rows = read_table(table, options.id_column)
    absent = [column.name for column in encoding.columns if column.name not in columns]
    if absent:
        raise InputError(
            f"has no column {', '.join(map(repr, absent[:5]))}; the data were prepared "
            f"with the condition columns {[column.name for column in encoding.columns][:20]}",
            table,
        )
    cases = find_cases(images)
    _check_rows(cases, rows, options, table)
    samples, _ = _case_samples(
        cases, rows, encoding, options, table, progress, unknown=unknown, notes=notes
    )
    arrays = {
        key: np.stack([sample[key] for sample in samples])
        for key in samples[0]
        if key not in ("x", "y")
    }
    images = [sample["x"] for sample in samples]
    same = len({image.shape for image in images}) == 1
    arrays["x"] = np.stack(images) if same else images
    return arrays


def _plane_samples(case, loaded, z, options):
    """The 2-D samples of a case: the image, or each slice of a volume."""
    case_id = case.case_id
    image = _normalised(loaded.image, options.normalise)
    volume = image.ndim == 4
    depth = image.shape[2] if volume else 1
    for k in range(depth):
        position = k / (depth - 1) if depth > 1 else 0.0
        extra = [position] if volume and options.slice_position else []
        sample = {
            "x": resize_plane(image[:, :, k] if volume else image, options.size, order=1),
            "z": np.concatenate([z, np.float32(extra)]),
            "name": f"{case_id}_slice{k}" if volume else case_id,
            "slice_index": k,
            "slice_position": position,
            "source_shape": np.int32(image.shape[:2]),
        }
        if volume:  # the way back: slices stacked along the last axis, the source affine
            sample["affine"] = np.float64(loaded.affine)
        if loaded.label is not None:
            label = loaded.label[:, :, k] if volume else loaded.label
            sample["y"] = resize_plane(label, options.size, order=0)
        yield sample


def _volume_sample(case, loaded, z, options):
    """The one 3-D sample of a case: `(D, H, W, C)` (the on-disk `(H, W, D)` axes moved),
    resampled to `options.spacing`, centre cropped or padded to `options.size`, with the
    geometry that puts a prediction back on the source grid and the label map's file
    (`label_file`, empty for new cases), against which `evaluate` scores it."""
    image = np.moveaxis(_normalised(loaded.image, options.normalise), 2, 0)
    source_shape = image.shape[:3]
    source_spacing = (loaded.spacing[2], loaded.spacing[0], loaded.spacing[1])
    spacing = tuple(options.spacing or source_spacing)
    image = resample(image, source_spacing, spacing, order=1)
    resampled_shape = image.shape[:3]
    size = tuple(options.size or resampled_shape)
    start = centred_start(resampled_shape, size)
    sample = {
        "x": window(image, start, size, fill=0.0),
        "z": z,
        "name": case.case_id,
        "label_file": str(case.label.resolve()) if case.label is not None else "",
        "source_shape": np.int32(source_shape),
        "source_spacing": np.float32(source_spacing),
        "spacing": np.float32(spacing),
        "affine": np.float64(loaded.affine),
        "resampled_shape": np.int32(resampled_shape),
        "offset": np.int32(start),
    }
    if loaded.label is not None:
        label = resample(np.moveaxis(loaded.label, 2, 0), source_spacing, spacing, order=0)
        sample["y"] = window(label, start, size, fill=0)
    yield sample


def _result(samples, encoding, options, is_volume):
    labels = np.stack([sample["y"] for sample in samples]).astype(np.int64)
    classes = sorted(np.unique(labels).tolist())
    n_classes = max(classes) + 1
    if options.class_names is not None:
        unknown = sorted(set(classes) - set(options.class_names))
        if unknown:
            raise InputError(
                f"the label maps hold class ids {unknown} that --labels-map does not name",
                "labels_map",
            )
        n_classes = max(n_classes, max(options.class_names) + 1)
    if n_classes > 256:
        raise InputError(f"class ids up to {n_classes - 1}; at most 255 are supported", "labels")
    binary = n_classes <= 2
    arrays = {
        key: np.stack([sample[key] for sample in samples])
        for key in samples[0]
        if key not in ("x", "y")
    }
    arrays["x"] = np.stack([sample["x"] for sample in samples]).astype(np.float32)
    arrays["y"] = labels[..., None].astype(np.float32) if binary else labels.astype(np.uint8)
    arrays["z"] = arrays["z"].astype(np.float32)
    for key, dtype in (("slice_index", np.int32), ("slice_position", np.float32)):
        if key in arrays:
            arrays[key] = arrays[key].astype(dtype)
    class_names = options.class_names or {i: f"class_{i}" for i in range(n_classes)}
    metadata = {
        "source": "folder",
        "conditions": json_encoding(encoding, options.slice_position and is_volume),
        "classes": {str(i): class_names.get(i, f"class_{i}") for i in range(n_classes)},
        "normalise": options.normalise,
        "volumes": bool(is_volume),
        "dims": options.dims,
        "options": options.to_dict(),
    }
    return FolderResult(arrays=arrays, metadata=metadata)


def json_encoding(encoding, slice_position):
    """The condition encoding as stored in the metadata: its JSON and `z`'s entries."""
    import json

    entries = [label for column in encoding.columns for label in column.labels]
    return {
        "encoding": json.loads(encoding.to_json()),
        "slice_position": bool(slice_position),
        "z": entries + (["slice_position"] if slice_position else []),
    }
