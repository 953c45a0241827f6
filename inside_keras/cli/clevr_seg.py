"""`inside-keras generate clevr-seg` and `inside-keras prepare clevr-seg`.

Cheap to import: the data modules are imported when a command runs.
"""

import sys
from pathlib import Path

from inside_keras.cli.datasets import flag_names
from inside_keras.cli.options import add_overwrite_argument
from inside_keras.data.clevr_seg import reader
from inside_keras.data.paths import data_root
from inside_keras.errors import InputError

#: The published CLEVR-Seg archive (linked from the INSIDE authors' repository).
PUBLISHED_ARCHIVE = "https://drive.google.com/file/d/1HfFoYwm8ltCitFo94JycbF5C3X3zx3Tu"


def default_source():
    """Where `prepare` looks without `--source`: `<data root>/clevr-seg`."""
    return data_root() / "clevr-seg"


def _add_workers_argument(parser):
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: the CPUs)"
    )


def _workers(args):
    from inside_keras.data.parallel import default_workers

    return default_workers() if args.workers is None else args.workers


def add_generate_arguments(parser):
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument("--n", type=int, default=4000, help="number of images (default 4000)")
    parser.add_argument("--size", type=int, default=200, help="image side in pixels (200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    _add_workers_argument(parser)
    add_overwrite_argument(parser)


def generate(args):
    """Write a synthetic CLEVR-Seg in the published layout; returns the exit code."""
    from inside_keras.data.clevr_seg import synthetic
    from inside_keras.runs.outputs import OutputFolder
    from inside_keras.runs.progress import progress

    with flag_names("n", "size", "seed", "workers"):
        options = synthetic.GenerateOptions(args.n, args.size, args.seed, _workers(args))
    folder = OutputFolder(args.out, "generate clevr-seg", args.overwrite, reader.FOLDERS)
    details = {"n": options.n, "size": options.size, "seed": options.seed}
    if folder.holds_complete(details):
        print(f"{args.out} already holds this dataset ({details}); nothing to do")
        return 0
    with progress("generate clevr-seg") as update:
        folder.build(details, lambda partial: synthetic.generate(partial, options, update))
    print(f"wrote {options.n} CLEVR-Seg images ({options.size}x{options.size}) to {args.out}")
    return 0


def add_prepare_arguments(parser):
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="CLEVR-Seg folder or .zip archive (default: $INSIDE_KERAS_DATA/clevr-seg, "
        "else data/clevr-seg)",
    )
    parser.add_argument(
        "--condition",
        required=True,
        choices=list(reader.CONDITIONS),
        help="condition type; z is the one-hot of a value drawn among those in the scene",
    )
    parser.add_argument("--out", required=True, type=Path, help="prepared .npz file to write")
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="resize to SIZE x SIZE (images bilinear, masks nearest; default: native size)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the values drawn and the split")
    parser.add_argument(
        "--split",
        choices=["shuffled", "by-name"],
        default="shuffled",
        help="train 72 %%, val 8 %%, test 20 %%: a seeded permutation (default), or in sorted "
        "name order as the authors' loader splits (the published set's test images are theirs)",
    )
    parser.add_argument("--limit", type=int, default=None, help="use the first LIMIT images")
    parser.add_argument(
        "--skip-bad", action="store_true", help="skip malformed images and count them"
    )
    _add_workers_argument(parser)
    add_overwrite_argument(parser)


def _missing_source_error(source):
    return InputError(
        f"no CLEVR-Seg dataset here; download the published archive ({PUBLISHED_ARCHIVE}) "
        f"and pass it with --source or unpack it to {default_source()}, or write a synthetic "
        f"one with `inside-keras generate clevr-seg --out {default_source()}`",
        source,
    )


def prepare(args):
    """Prepare a CLEVR-Seg folder or archive into one `.npz`; returns the exit code."""
    from inside_keras.data import safe_zip
    from inside_keras.data.clevr_seg import prepare as clevr_prepare
    from inside_keras.data.prepared import is_prepared, save_prepared, split_counts
    from inside_keras.runs.outputs import claim_file
    from inside_keras.runs.progress import progress

    with flag_names("condition", "size", "seed", "limit", "workers", "split"):
        options = clevr_prepare.PrepareOptions(
            args.condition,
            args.size,
            args.seed,
            args.limit,
            args.skip_bad,
            _workers(args),
            split=args.split.replace("-", "_"),
        )
    source = args.source or default_source()
    if not source.exists() or (source.is_dir() and not any(source.iterdir())):
        raise _missing_source_error(source)
    claim_file(args.out, args.overwrite, ours=is_prepared)
    with safe_zip.folder_or_zip(source) as folder, progress("prepare clevr-seg") as update:
        result = clevr_prepare.prepare(reader.find_root(folder), options, update)
        save_prepared(args.out, **result.arrays)
        for error in result.skipped:
            shown = safe_zip.relabel(error, folder, source)
            print(f"inside-keras prepare: skipped {shown}", file=sys.stderr)
    splits = result.arrays["split"]
    counts = split_counts(splits)
    print(
        f"wrote {args.out}: {len(splits)} samples ({counts}), condition {options.condition}, "
        f"{len(result.skipped)} bad images skipped"
    )
    return 0
