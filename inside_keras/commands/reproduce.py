"""`inside-keras reproduce clevr-seg [--quick] [--backend B] [--out DIR]`."""

import os
import sys
from pathlib import Path

from inside_keras.errors import InputError

BACKENDS = ("jax", "torch", "tensorflow")


def register(subparsers):
    parser = subparsers.add_parser(
        "reproduce",
        help="Reproduce the paper's comparison (baseline, FiLM, Guide Me, INSIDE).",
        description=(
            "Train the paper's encoder-decoder with no conditioning, FiLM, Guide Me and "
            "INSIDE under identical settings on CLEVR-Seg (generated and prepared if no "
            "prepared data exists) and write results.json, results.md and figures."
        ),
    )
    datasets = parser.add_subparsers(
        title="datasets", dest="dataset", required=True, parser_class=type(parser)
    )
    clevr = datasets.add_parser("clevr-seg", help="CLEVR-Seg, coordinates condition")
    clevr.add_argument(
        "--quick",
        action="store_true",
        help="2,000 images of 64x64, 10 epochs, Adam 3e-3, BCE + Dice (sized for a 2-core CPU); "
        "default: the paper's 4,000 images of 200x200, up to 100 epochs, focal loss",
    )
    clevr.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else Keras's default)",
    )
    clevr.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default runs/reproduce-clevr-seg[-quick])",
    )
    clevr.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder for generated/prepared data (default <data root>/clevr-seg)",
    )
    clevr.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="methods trained at once, each in its own process (default: one per CPU)",
    )
    clevr.set_defaults(func=run_clevr_seg)


def run_clevr_seg(args):
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # read when Keras is first imported
    from inside_keras.data.paths import data_root
    from inside_keras.reproduce import FULL, QUICK, reproduce_clevr_seg

    settings = QUICK if args.quick else FULL
    out = args.out or Path("runs") / ("reproduce-clevr-seg" + ("-quick" if args.quick else ""))
    data = args.data or data_root() / "clevr-seg"
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"must be at least 1, got {args.jobs}", "--jobs")
    try:
        results = reproduce_clevr_seg(settings, out, data, jobs=args.jobs, verbose=1)
    except RuntimeError as error:
        print(f"inside-keras reproduce: {error}", file=sys.stderr)
        return 1
    print((out / "results.md").read_text())
    print(f"results: {out / 'results.json'}; figures: {out}/attention_*.png")
    return 0 if results["methods"] else 1
