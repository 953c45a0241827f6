"""`inside-keras prepare folder`: your own images, label maps and condition table.

A gap in the table (an empty cell, `NA`, `NaN`, ...; `conditions.NA_VALUES`) stops the
command unless `--missing indicator` fills it and flags it with a `NAME:missing` entry
of `z` (see `inside_keras.data.folder.conditions`).

Cheap to import: the data modules are imported when the command runs.
"""

from pathlib import Path

from inside_keras.cli.datasets import flag_names
from inside_keras.cli.options import add_overwrite_argument


def _columns(text):
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_prepare_arguments(parser):
    """Flags of `prepare folder`."""
    parser.description = (
        "Prepare a folder of images (PNG/JPEG/TIFF, NIfTI) and a folder of label maps, "
        "matched by file stem (case7_0000.nii.gz, case7_0001.nii.gz -> case7.nii.gz), "
        "with a CSV of conditions per case, into one prepared .npz of 2-D samples "
        "(3-D volumes cut into slices). See docs/own_data.md."
    )
    parser.add_argument("--images", required=True, type=Path, metavar="DIR", help="images")
    parser.add_argument("--labels", required=True, type=Path, metavar="DIR", help="label maps")
    parser.add_argument(
        "--conditions", required=True, type=Path, metavar="FILE.csv", help="one row per case"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.npz", help="to write")
    parser.add_argument("--id-column", default="id", help="the table's case column (id)")
    parser.add_argument(
        "--condition-columns",
        type=_columns,
        default=(),
        metavar="A,B,C",
        help="columns of z, in order (default: every column but the id, split and group "
        "columns); numbers are standardised, text one-hot encoded",
    )
    parser.add_argument(
        "--missing",
        default="error",
        choices=("error", "indicator"),
        help="a gap in a condition column (an empty cell, NA, N/A, n/a, NaN, nan, NULL, "
        "null): error (default), or indicator: filled with the training mean (numbers; 0 "
        "once standardised) or all zeros (categories), and a 0/1 entry NAME:missing "
        "added right after the column's entries in z",
    )
    parser.add_argument(
        "--dims",
        type=int,
        default=2,
        help="2: 2-D samples (images, or slices of volumes); 3: volumes for the 3-D U-Net (2)",
    )
    parser.add_argument(
        "--size",
        type=int,
        nargs="+",
        metavar="N",
        help="--dims 2: H W, samples resized; --dims 3: D H W, volumes centre cropped or "
        "padded (default: keep)",
    )
    parser.add_argument(
        "--spacing",
        type=float,
        nargs=3,
        metavar=("D", "H", "W"),
        help="--dims 3: resample volumes to this voxel size in mm (default: keep each's)",
    )
    parser.add_argument(
        "--normalise",
        default="zscore",
        help="intensities per case: zscore, minmax or none (zscore)",
    )
    parser.add_argument(
        "--slice-position",
        action="store_true",
        help="3-D volumes: append each slice's position (0 to 1) to z",
    )
    parser.add_argument(
        "--labels-map", metavar="ID:NAME,...", help='class names, e.g. "0:background,1:lesion"'
    )
    parser.add_argument("--split-column", help="a column of train/val/test (default: drawn)")
    parser.add_argument("--group-column", help="a column whose cases stay in one split")
    parser.add_argument("--val-fraction", type=float, default=0.1, help="drawn splits (0.1)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="drawn splits (0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn splits (0)")
    add_overwrite_argument(parser)


def prepare(args):
    """Run `prepare folder`; returns the exit code."""
    from inside_keras.data.folder.prepare import FolderOptions, parse_class_names, prepare_folder
    from inside_keras.data.prepared import is_prepared, save_prepared, split_counts
    from inside_keras.runs.outputs import claim_file
    from inside_keras.runs.progress import progress

    claim_file(args.out, args.overwrite, ours=is_prepared)
    fields = ("normalise", "size", "labels_map", "val_fraction", "test_fraction", "dims")
    with flag_names(*fields, "spacing", "missing"):
        options = FolderOptions(
            id_column=args.id_column,
            condition_columns=args.condition_columns,
            size=tuple(args.size) if args.size else None,
            normalise=args.normalise,
            slice_position=args.slice_position,
            split_column=args.split_column,
            group_column=args.group_column,
            val_fraction=args.val_fraction,
            test_fraction=args.test_fraction,
            seed=args.seed,
            class_names=parse_class_names(args.labels_map) if args.labels_map else None,
            dims=args.dims,
            spacing=tuple(args.spacing) if args.spacing else None,
            missing=args.missing,
        )
        with progress("prepare folder") as update:
            result = prepare_folder(args.images, args.labels, args.conditions, options, update)
    save_prepared(args.out, metadata=result.metadata, **result.arrays)
    splits = result.arrays["split"]
    counts = split_counts(splits)
    cases = len(set(result.arrays["case"].tolist()))
    print(f"wrote {args.out}: {len(splits)} samples of {cases} cases ({counts})")
    gaps = result.metadata["conditions"].get("gaps")
    if gaps:
        filled = ", ".join(
            f"{name} in {count} case{'' if count == 1 else 's'}" for name, count in gaps.items()
        )
        print(f"gaps filled and flagged in z (NAME:missing): {filled}")
    print(f"the condition encoding: inside-keras info {args.out}")
    return 0
