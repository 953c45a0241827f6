"""`inside-keras reproduce clevr-seg|acdc [--quick] [--config FILE|DIR] [--set k=v] ...`.

Cheap to import: the reproduction (and Keras) is imported when the command runs, after
`--backend` has set `KERAS_BACKEND`.
"""

import os
import sys
from pathlib import Path

from inside_keras.cli.options import add_overwrite_argument, add_set_argument
from inside_keras.errors import InputError
from inside_keras.runs.writable import check_folder

BACKENDS = ("jax", "torch", "tensorflow")
DATASETS = {
    "clevr-seg": "CLEVR-Seg, coordinates condition, the paper's encoder-decoder",
    "acdc": "ACDC (or phantoms), phase + slice-position condition, a U-Net",
}
QUICK_HELP = {
    "clevr-seg": "2,000 images of 64x64, 10 epochs, Adam 3e-3, BCE + Dice (sized for a 2-core "
    "CPU); default: the paper's 4,000 images of 200x200, up to 100 epochs, focal loss",
    "acdc": "20 phantoms, 64x64 slices at 2.5 mm, U-Net depth 3 / 16 filters, 15 epochs, Adam "
    "3e-3 (sized for a 2-core CPU); default: 128x128 at 1.25 mm, depth 4 / 32 filters, "
    "up to 100 epochs with early stopping, 100 phantoms without --source",
}


def _add_arguments(parser, dataset):
    parser.add_argument("--quick", action="store_true", help=QUICK_HELP[dataset])
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE|DIR",
        help="a reproduction spec of your own (see configs/reproduce/), or a folder holding "
        f"{dataset.replace('-', '_')}_quick.yaml / _full.yaml (default: the built-in ones)",
    )
    add_set_argument(parser, "the shared experiment")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else Keras's default)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output folder (default runs/reproduce-{dataset}[-quick]"
        + ("[-folds<K>])" if dataset == "acdc" else ")"),
    )
    add_overwrite_argument(parser)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="dataset root for generated and prepared data (default $INSIDE_KERAS_DATA or ./data)",
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
            "Train one experiment per method (no conditioning, FiLM, Guide Me, INSIDE) under "
            "identical settings on CLEVR-Seg or ACDC (generated and prepared if missing), as "
            "a reproduction spec describes, and write results.json, results.md and figures."
        ),
    )
    datasets = parser.add_subparsers(
        title="datasets", dest="dataset", required=True, parser_class=type(parser)
    )
    for dataset, help_text in DATASETS.items():
        sub = datasets.add_parser(dataset, help=help_text, description=help_text)
        _add_arguments(sub, dataset)
        sub.set_defaults(func=run)
    datasets.choices["acdc"].add_argument(
        "--source",
        type=Path,
        default=None,
        metavar="DIR",
        help="a real ACDC root holding training/patientNNN/ (default: generate phantoms)",
    )
    datasets.choices["acdc"].add_argument(
        "--folds",
        type=int,
        default=None,
        metavar="K",
        help="K-fold cross-validation: patient folds stratified by Info.cfg Group; each "
        "method trained on K-1 folds and predicting the held-out one, in "
        "OUT/fold_<k>/<method>/; all patients' predictions pooled in "
        "OUT/<method>/submission/ and scored once (OUT/<method>/scores/)",
    )


def _spec_file(args):
    from inside_keras.reproduce.spec import built_in_spec

    built_in = built_in_spec(args.dataset, args.quick)
    if args.config is None:
        return built_in
    if args.config.is_dir():
        return args.config / built_in.name
    return args.config


def run(args):
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"must be at least 1, got {args.jobs}", "--jobs")
    folds = getattr(args, "folds", None)
    if folds is not None and folds < 2:
        raise InputError(f"must be at least 2, got {folds}", "--folds")
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # read when Keras is first imported
    from inside_keras.data.paths import data_root
    from inside_keras.reproduce.spec import load_reproduction

    settings = list(args.settings)
    source = getattr(args, "source", None)
    if source is not None:
        settings.append(f"data.generate.source={source.resolve()}")
    if folds is not None:
        settings.append(f"data.generate.folds={folds}")
    spec = load_reproduction(_spec_file(args), settings)
    if spec.evaluation != args.dataset:
        raise InputError(
            f"is a {spec.evaluation} reproduction; run it with reproduce {spec.evaluation}",
            spec.source,
        )
    out = args.out or Path("runs") / (
        f"reproduce-{args.dataset}"
        + ("-quick" if args.quick else "")
        + (f"-folds{folds}" if folds else "")
    )
    from inside_keras.reproduce.runner import output_folders, run_reproduction
    from inside_keras.runs.outputs import OutputFolder

    output = OutputFolder(
        out, f"reproduce {args.dataset}", args.overwrite, entries=output_folders(spec)
    )
    check_folder(args.data or data_root(), "--data")

    from inside_keras.training.checkpoint import holds_a_finished_epoch

    try:
        # Undone if it fails before any method finished an epoch (see `train`).
        with output.undone_on_failure(lambda: holds_a_finished_epoch(output.path)):
            results = run_reproduction(spec, output, args.data or data_root(), jobs=args.jobs)
    except RuntimeError as error:
        print(f"inside-keras reproduce: {error}", file=sys.stderr)
        return 1
    print((out / "results.md").read_text())
    print(f"results: {out / 'results.json'}; figures: {out}/attention_*.png")
    return 0 if results["methods"] else 1
