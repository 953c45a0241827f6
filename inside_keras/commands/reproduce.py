"""`inside-keras reproduce clevr-seg|acdc [--quick] [--backend B] [--out DIR] [--data DIR] ...`.

Cheap to import: the reproduction (and Keras) is imported when the command runs, after
`--backend` has set `KERAS_BACKEND`.
"""

import os
import sys
from pathlib import Path

from inside_keras.errors import InputError

BACKENDS = ("jax", "torch", "tensorflow")


def _common_arguments(parser, dataset, quick_help, data_default):
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else Keras's default)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output folder (default runs/reproduce-{dataset}[-quick])",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"folder for generated/prepared data (default <data root>/{data_default})",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="methods trained at once, each in its own process (default: one per CPU)",
    )


def register(subparsers):
    parser = subparsers.add_parser(
        "reproduce",
        help="Reproduce the paper's comparison (baseline, FiLM, Guide Me, INSIDE).",
        description=(
            "Train a network with no conditioning, FiLM, Guide Me and INSIDE under identical "
            "settings on CLEVR-Seg or ACDC (generated and prepared if no prepared data "
            "exists) and write results.json, results.md and figures."
        ),
    )
    datasets = parser.add_subparsers(
        title="datasets", dest="dataset", required=True, parser_class=type(parser)
    )
    clevr = datasets.add_parser(
        "clevr-seg", help="CLEVR-Seg, coordinates condition, the paper's encoder-decoder"
    )
    _common_arguments(
        clevr,
        "clevr-seg",
        "2,000 images of 64x64, 10 epochs, Adam 3e-3, BCE + Dice (sized for a 2-core CPU); "
        "default: the paper's 4,000 images of 200x200, up to 100 epochs, focal loss",
        "clevr-seg",
    )
    clevr.set_defaults(func=run_clevr_seg)

    acdc = datasets.add_parser(
        "acdc",
        help="ACDC (or phantoms), phase + slice-position condition, a U-Net",
        description=(
            "Prepare ACDC (phantoms unless --source names a real ACDC folder) conditioned on "
            "cardiac phase and slice position, train a U-Net with no conditioning, FiLM, "
            "Guide Me and INSIDE in the bottleneck, score the test patients like the "
            "challenge (Dice and HD95 for RV, MYO, LV at ED and ES) and write results.json, "
            "results.md and figures."
        ),
    )
    _common_arguments(
        acdc,
        "acdc",
        "20 phantoms, 64x64 slices at 2.5 mm, U-Net depth 3 / 16 filters, 15 epochs, Adam "
        "3e-3 (sized for a 2-core CPU); default: 128x128 at 1.25 mm, depth 4 / 32 filters, "
        "up to 100 epochs with early stopping, 100 phantoms without --source",
        "acdc-reproduce",
    )
    acdc.add_argument(
        "--source",
        type=Path,
        default=None,
        metavar="DIR",
        help="a real ACDC root holding training/patientNNN/ (default: generate phantoms)",
    )
    acdc.set_defaults(func=run_acdc)


def _prepare(args, dataset, data_default):
    """Check the common flags, set the backend; returns `(out, data)` folders."""
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"must be at least 1, got {args.jobs}", "--jobs")
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # read when Keras is first imported
    from inside_keras.data.paths import data_root

    out = args.out or Path("runs") / (f"reproduce-{dataset}" + ("-quick" if args.quick else ""))
    return out, args.data or data_root() / data_default


def _report(run, out):
    """Run the reproduction `run()`; print the results table, return the exit code."""
    try:
        results = run()
    except RuntimeError as error:
        print(f"inside-keras reproduce: {error}", file=sys.stderr)
        return 1
    print((out / "results.md").read_text())
    print(f"results: {out / 'results.json'}; figures: {out}/attention_*.png")
    return 0 if results["methods"] else 1


def run_clevr_seg(args):
    out, data = _prepare(args, "clevr-seg", "clevr-seg")
    from inside_keras.reproduce import FULL, QUICK, reproduce_clevr_seg

    settings = QUICK if args.quick else FULL
    return _report(lambda: reproduce_clevr_seg(settings, out, data, jobs=args.jobs, verbose=1), out)


def run_acdc(args):
    out, data = _prepare(args, "acdc", "acdc-reproduce")
    if args.source is not None:
        from inside_keras.data.acdc.reader import patient_folders

        patient_folders(args.source)  # InputError naming the folder unless the layout
    from inside_keras.reproduce import ACDC_FULL, ACDC_QUICK, reproduce_acdc

    settings = ACDC_QUICK if args.quick else ACDC_FULL
    return _report(
        lambda: reproduce_acdc(settings, out, data, source=args.source, jobs=args.jobs, verbose=1),
        out,
    )
