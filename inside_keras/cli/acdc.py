"""`inside-keras generate acdc`, `inside-keras prepare acdc` and `inside-keras score acdc`.

Cheap to import: the data modules (NumPy, SciPy, nibabel) are imported when a command runs.
"""

import sys
from contextlib import contextmanager

from inside_keras.cli.datasets import flag_names
from inside_keras.cli.options import add_overwrite_argument
from inside_keras.data.paths import data_root
from inside_keras.errors import InputError


@contextmanager
def _writing(target):
    """Report a failed write (a file where a folder should be, no permission) as bad input."""
    try:
        yield
    except OSError as error:
        raise InputError(
            f"cannot write there ({error.strerror}: {error.filename})", target
        ) from None


def add_generate_arguments(parser):
    """Flags of `generate acdc`."""
    parser.description = (
        "Write synthetic cardiac MRI phantoms in ACDC's published layout "
        "(OUT/training/patientNNN/ with Info.cfg, 4-D cine, ED/ES frames and _gt labels)."
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset root to write")
    parser.add_argument("--patients", type=int, default=20, help="number of patients (20)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    add_overwrite_argument(parser)


def generate(args):
    """Run `generate acdc`; returns the exit code."""
    for flag, value, low in (("--patients", args.patients, 1), ("--seed", args.seed, 0)):
        if value < low:
            raise InputError(f"must be at least {low}, got {value}", flag)
    from inside_keras.runs.outputs import OutputFolder

    folder = OutputFolder(args.out, "generate acdc", args.overwrite, ("training",))
    details = {"patients": args.patients, "seed": args.seed}
    if folder.holds_complete(details):
        print(f"{args.out} already holds these phantoms ({details}); nothing to do")
        return 0
    from inside_keras.data.acdc.phantom import generate_acdc
    from inside_keras.runs.progress import progress

    with _writing(args.out), progress("generate acdc") as update:
        folder.build(
            details,
            lambda partial: generate_acdc(partial, args.patients, args.seed, progress=update),
        )
    print(f"wrote {args.patients} phantom patients to {folder.path / 'training'}")
    return 0


def _condition(text):
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _add_source_arguments(parser):
    """`--source` and `--split`: the ACDC patient folders a command reads."""
    parser.add_argument(
        "--source",
        default=None,
        metavar="DIR",
        help="ACDC root holding training/ (default: $INSIDE_KERAS_DATA or ./data, then acdc/)",
    )
    parser.add_argument(
        "--split", default="training", help="source folder: training or testing (training)"
    )


def add_prepare_arguments(parser):
    """Flags of `prepare acdc`."""
    parser.description = (
        "Resample, crop and normalise the ED and ES slices of ACDC patient folders into one "
        "prepared .npz, conditioned on cardiac phase and slice position; split by patient."
    )
    _add_source_arguments(parser)
    parser.add_argument(
        "--out", required=True, metavar="FILE.npz", help="prepared dataset to write"
    )
    parser.add_argument(
        "--spacing", type=float, default=1.25, metavar="MM", help="in-plane pixel size (1.25)"
    )
    parser.add_argument(
        "--size", type=int, default=128, metavar="PX", help="slice height and width (128)"
    )
    parser.add_argument(
        "--condition",
        type=_condition,
        default=("phase", "position"),
        metavar="LIST",
        help="comma-separated components of z, in order: phase, position (phase,position)",
    )
    parser.add_argument(
        "--position",
        default="continuous",
        metavar="ENCODING",
        help="continuous (index / (n - 1)) or bins (one-hot base/mid/apex) (continuous)",
    )
    parser.add_argument(
        "--val-fraction", type=float, default=0.1, metavar="F", help="share of patients (0.1)"
    )
    parser.add_argument(
        "--test-fraction", type=float, default=0.2, metavar="F", help="share of patients (0.2)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the patient split (0)")
    parser.add_argument(
        "--folds",
        type=int,
        default=None,
        metavar="K",
        help="K cross-validation folds by patient, stratified by Info.cfg Group: adds a "
        "per-slice `fold`; the split then holds fold 0 out as test and draws "
        "--val-fraction of the other patients for val (--test-fraction unused)",
    )
    parser.add_argument(
        "--skip-bad", action="store_true", help="skip and count bad patients instead of failing"
    )
    add_overwrite_argument(parser)


def prepare(args):
    """Run `prepare acdc`; returns the exit code."""
    from inside_keras.data.acdc.prepare import PrepareOptions, prepare_acdc
    from inside_keras.data.prepared import is_prepared, save_prepared, split_counts
    from inside_keras.runs.outputs import claim_file
    from inside_keras.runs.progress import progress

    fields = ("spacing", "size", "condition", "position", "val_fraction", "test_fraction")
    source = args.source if args.source is not None else data_root() / "acdc"
    claim_file(args.out, args.overwrite, ours=is_prepared)
    with flag_names(*fields, "split", "seed", "folds"), progress("prepare acdc") as update:
        options = PrepareOptions(
            **{field: getattr(args, field) for field in fields},
            seed=args.seed,
            skip_bad=args.skip_bad,
            folds=args.folds,
        )
        result = prepare_acdc(source, args.split, options, update)
    save_prepared(args.out, **result.arrays)
    for folder, reason in result.skipped:
        print(f"skipped {folder.name}: {reason}", file=sys.stderr)
    arrays = result.arrays
    counts = split_counts(arrays["split"])
    n_patients = len(set(arrays["patient"].tolist()))
    folds = f" in {args.folds} folds (fold 0 is test)" if args.folds else ""
    print(
        f"wrote {len(arrays['x'])} slices ({counts}) of {n_patients} patients{folds} to "
        f"{args.out}; skipped {len(result.skipped)} bad patients"
    )
    return 0


def add_score_arguments(parser):
    """Flags of `score acdc`."""
    parser.description = (
        "Score predicted label volumes in the challenge's layout (DIR/patientNNN_ED.nii.gz, "
        "_ES.nii.gz) against the ACDC ground truth, the challenge's way: Dice, HD, HD95 and "
        "ASSD per structure and phase, the clinical indices (volumes, ejection fractions, "
        "myocardial mass) and their agreement, Bland-Altman plots."
    )
    parser.add_argument(
        "--predictions",
        required=True,
        metavar="DIR",
        help="folder of patientNNN_ED.nii.gz and patientNNN_ES.nii.gz, one pair per patient",
    )
    _add_source_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--only-predicted",
        action="store_true",
        help="score only the patients of the split that have a prediction file (e.g. the "
        "test patients written by predict); each still needs both phases",
    )
    add_overwrite_argument(parser)


def score(args):
    """Run `score acdc`; returns the exit code."""
    from inside_keras.data.acdc.reader import patient_folders
    from inside_keras.evaluation.acdc.report import FIGURE, FILES, write_report
    from inside_keras.evaluation.acdc.submission import score_submission
    from inside_keras.evaluation.acdc.summary import summary_markdown
    from inside_keras.runs.outputs import OutputFolder
    from inside_keras.runs.progress import progress

    folder = OutputFolder(args.out, "score acdc", args.overwrite, FILES)
    source = args.source if args.source is not None else data_root() / "acdc"
    with flag_names("split"), progress("score acdc") as update:
        rows, ignored = score_submission(
            args.predictions, source, args.split, update, args.only_predicted
        )
    details = {"predictions": str(args.predictions), "source": str(source), "split": args.split}
    details["only_predicted"] = args.only_predicted
    with _writing(args.out):
        folder.create(details)
        numbers = write_report(folder.path, rows)
        folder.create(details, complete=True)
    print("\n".join(summary_markdown(numbers, figure=FIGURE)))
    if args.only_predicted:
        scored = len({row["patient"] for row in rows})
        total = len(patient_folders(source, args.split))
        print(f"scored {scored} of the {total} patients of {args.split} (--only-predicted)")
    if ignored:
        shown = ", ".join(ignored[:3]) + (", ..." if len(ignored) > 3 else "")
        print(f"not scored: {len(ignored)} other entries of {args.predictions} ({shown})")
    print(f"wrote {', '.join(FILES)} to {args.out}")
    return 0
