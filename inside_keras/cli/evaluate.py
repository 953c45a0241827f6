"""`inside-keras evaluate` and `inside-keras predict` on a prepared dataset.

`predict --images DIR --conditions FILE.csv` prepares new cases as a `prepare folder`
dataset was, with its stored condition encoding (its gap policy included). A category
unseen in training stops it (exit 2) unless `--unknown ignore` encodes it as all zeros;
what was let through so (and gaps filled in columns that had none in training) is
said once, in one warning line each on stderr, after the predictions are written.
"""

import sys
from pathlib import Path

from inside_keras.cli.options import add_overwrite_argument
from inside_keras.errors import InputError

#: The subfolder of `predict --out` holding ACDC's label volumes in the challenge's
#: layout (`patientNNN_ED.nii.gz`, `patientNNN_ES.nii.gz`), as `score acdc` reads them.
SUBMISSION_FOLDER = "submission"


def _common_arguments(parser):
    parser.add_argument("--model", required=True, type=Path, help="trained model (.keras)")
    parser.add_argument("--data", required=True, type=Path, help="prepared dataset (.npz)")
    parser.add_argument(
        "--split",
        default="test",
        choices=("train", "val", "test"),
        help="which samples (default test)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="ACDC only: the prepared ACDC root (default <data root>/acdc)",
    )
    parser.add_argument(
        "--source-split",
        default="training",
        choices=("training", "testing"),
        help="ACDC only: the source split that was prepared (default training)",
    )


def register_evaluate(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="Dice of a trained model on a prepared dataset (ACDC: challenge table).",
        description="Per-image mean Dice of the thresholded (argmax) masks, and the authors' "
        "soft Dice of the probabilities beside it; for ACDC, volumes are reassembled at the "
        "original spacing and Dice and HD95 (mm) reported per structure and phase.",
    )
    _common_arguments(parser)
    parser.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="write per-sample (or, for ACDC, per-patient) scores as CSV",
    )
    add_overwrite_argument(parser)
    parser.set_defaults(func=evaluate)


def register_predict(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="Write predicted masks and attention maps (PNG; volumes: NIfTI).",
        description="One mask PNG and one attention PNG per conditioned level (mean over "
        "channels) per 2-D sample; for ACDC also the label volumes on the source grids, "
        "with their images' headers, in the challenge's layout that score acdc reads "
        "(OUT/submission/patientNNN_ED.nii.gz, _ES); for volumes prepared with prepare "
        "folder --dims 3, predicted label volumes as NIfTI on the source grid with its "
        "affine.",
    )
    _common_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="first LIMIT samples only (volumes cut into slices: cases; ACDC: patients)",
    )
    parser.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="new cases (no label maps), prepared as --data was (a prepare folder dataset): "
        "predictions written on each image's own grid, NIfTI or PNG of class ids",
    )
    parser.add_argument(
        "--conditions", type=Path, metavar="FILE.csv", help="with --images: their conditions"
    )
    parser.add_argument(
        "--unknown",
        default="error",
        choices=("error", "ignore"),
        help="with --images: a category the training data did not have: error (default), "
        "or ignore: all zeros for that column, said in one warning line",
    )
    parser.add_argument(
        "--roi-size",
        default="auto",
        metavar="auto|whole|N[,N,N]",
        help="a sample larger than this (per axis) is predicted by overlapping windows of "
        "this size, Gaussian-blended (auto, the default: the size of the training samples; "
        "whole: every sample whole; sizes: multiples of the network's 2**depth)",
    )
    add_overwrite_argument(parser)
    parser.set_defaults(func=predict)


def _samples(args):
    from inside_keras.data.prepared import load_prepared, select_split

    arrays = select_split(load_prepared(args.data), args.split)
    if len(arrays["x"]) == 0:
        raise InputError(f"no samples in split {args.split!r}", args.data)
    return arrays


def _acdc_source(args):
    from inside_keras.data.paths import data_root

    return args.source or data_root() / "acdc"


def _load_task(args):
    from inside_keras.evaluation.predict import task_of
    from inside_keras.training.checkpoint import load_model

    model = load_model(args.model)
    return model, task_of(model)


def _new_cases(args, notes=None):
    """The new cases of `predict --images`, prepared as the `--data` dataset was; what the
    condition encoding let through is recorded in `notes` (an `EncodingNotes`)."""
    from inside_keras.data.folder.prepare import prepare_new_cases
    from inside_keras.data.prepared import load_metadata

    if args.conditions is None:
        raise InputError("--images needs --conditions (a CSV with their conditions)", "--images")
    metadata = load_metadata(args.data)
    return prepare_new_cases(
        args.images, args.conditions, metadata, unknown=args.unknown, notes=notes
    )


def _model_and_samples(args, notes=None):
    """`(model, task, arrays)`: the samples are read (and checked) before the model."""
    from inside_keras.evaluation.predict import check_inputs

    arrays = _new_cases(args, notes) if getattr(args, "images", None) else _samples(args)
    model, task = _load_task(args)
    check_inputs(model, arrays, args.data)
    return model, task, arrays


def evaluate(args):
    from inside_keras.evaluation.masks import dice_scores
    from inside_keras.evaluation.predict import predict_arrays, to_labels, truth_labels
    from inside_keras.evaluation.soft_dice import epsilon_dice_per_image
    from inside_keras.runs.outputs import claim_file

    if args.csv:
        claim_file(args.csv, args.overwrite, flag="--csv")
    model, task, arrays = _model_and_samples(args)
    truths = truth_labels(arrays)
    task.check_labels(truths, args.data)
    probabilities = predict_arrays(model, arrays)
    labels = to_labels(probabilities)
    scores = dice_scores(labels, truths, task.foreground)
    soft = epsilon_dice_per_image(probabilities, arrays["y"], task.foreground)
    print(
        f"{args.split}: {len(labels)} samples, mean per-image Dice {scores['dice']:.4f}, "
        f"soft Dice (the authors') {soft.mean():.4f}"
    )
    for key, value in scores.items():
        if key.startswith("dice_"):
            print(f"  {key}: {value:.4f}")
    if "label_file" in arrays:
        return _evaluate_volumes(labels, arrays, task, args)
    if "patient" in arrays:
        from inside_keras.evaluation.acdc.slices import challenge_markdown
        from inside_keras.evaluation.acdc.slices import evaluate as acdc_evaluate

        result = acdc_evaluate(probabilities, arrays, _acdc_source(args), args.source_split)
        print("\n".join(challenge_markdown(result.challenge())))
        if args.csv:
            result.to_csv(args.csv)
    elif args.csv:
        from inside_keras.runs.atomic import write_csv

        rows = zip(arrays["name"], scores["per_image"], soft, strict=True)
        write_csv(
            args.csv,
            ["name", "dice", "dice_soft"],
            [{"name": n, "dice": d, "dice_soft": s} for n, d, s in rows],
        )
    if args.csv:
        print(f"wrote {args.csv}", file=sys.stderr)
    return 0


def _evaluate_volumes(labels, arrays, task, args):
    """Volumes prepared with their source geometry: Dice and HD95 in mm per class, each
    prediction put back on its source grid and scored against its source label map."""
    import numpy as np

    from inside_keras.evaluation.source_grid import source_grid_scores

    rows = source_grid_scores(labels, arrays, task.foreground)
    print("on the source grids, at the source spacing:")
    for c in task.foreground:
        dices = [row["dice"] for row in rows if row["class"] == c]
        distances = [row["hd95"] for row in rows if row["class"] == c]
        defined = [d for d in distances if not np.isnan(d)]
        hd = f"{np.mean(defined):.2f} mm" if defined else "undefined"
        undefined = len(distances) - len(defined)
        print(
            f"  class {c}: Dice {np.mean(dices):.4f}, HD95 {hd}"
            + (f" ({undefined} undefined: the class empty in one of the two)" if undefined else "")
        )
    if args.csv:
        from inside_keras.runs.atomic import write_csv

        write_csv(args.csv, ["name", "class", "dice", "hd95"], rows)
        print(f"wrote {args.csv}", file=sys.stderr)
    return 0


def predict(args):
    """Run `predict`; returns the exit code. The warnings on new cases' conditions come
    after the predictions are written, so that a failing command's stderr stays its one
    error line."""
    if args.images is None:
        if args.unknown != "error":
            raise InputError("is for new cases (--images with --conditions)", "--unknown")
        return _predict(args)
    from inside_keras.data.folder.conditions import EncodingNotes

    notes = EncodingNotes()
    code = _predict(args, notes)
    for line in notes.lines():
        print(f"inside-keras predict: warning: {args.conditions}: {line}", file=sys.stderr)
    return code


def _predict(args, notes=None):
    import numpy as np

    from inside_keras.data.resample import resize_plane
    from inside_keras.evaluation.predict import attention_maps, predict_samples, to_labels
    from inside_keras.evaluation.source_grid import (
        has_geometry,
        has_slice_geometry,
        slices_to_volumes,
        to_source_grid,
        write_nifti,
    )
    from inside_keras.runs.outputs import OutputFolder, OutputNames

    if args.limit is not None and args.limit < 1:
        raise InputError(f"must be at least 1, got {args.limit}", "--limit")
    output = OutputFolder(args.out, "predict", args.overwrite)
    model, task, arrays = _model_and_samples(args, notes)
    new_volumes = args.images is not None and has_slice_geometry(arrays)
    if args.limit is not None:
        group = "case" if new_volumes else ("patient" if "patient" in arrays else None)
        arrays = _first_samples(arrays, args.limit, group)
        if notes is not None:  # warn of the cases predicted only
            notes.keep(arrays["case"].tolist())
    probabilities = predict_samples(model, arrays, _window(args, model))
    labels = to_labels(probabilities)
    output.create()
    names = OutputNames(args.out)
    if has_geometry(arrays):  # volumes: NIfTI label maps on their source grids
        for i, name in enumerate(arrays["name"]):
            path = names.path(name, "_pred.nii.gz", i)
            write_nifti(to_source_grid(labels[i], arrays, i), arrays["affine"][i], path)
        print(f"wrote {len(labels)} label volumes on their source grids to {args.out}")
        return 0
    if new_volumes:  # new volumes cut into slices: each volume back on its grid
        cases = list(slices_to_volumes(labels, arrays))
        for case, volume, affine in cases:
            write_nifti(volume, affine, names.path(case, "_pred.nii.gz", case))
        print(f"wrote {len(cases)} label volumes on their source grids to {args.out}")
        return 0
    if args.images is not None:  # new 2-D images: class ids at each image's own size
        for i, name in enumerate(arrays["name"]):
            size = tuple(int(n) for n in arrays["source_shape"][i])
            mask = resize_plane(labels[i].astype(np.float32), size, order=0).astype(np.uint8)
            _save_png(mask, names.path(name, "_pred.png", i))
        print(f"wrote {len(labels)} label maps (class ids) at the images' sizes to {args.out}")
        return 0
    if "patient" in arrays:  # ACDC: volumes first, so that a bad source stops early
        _write_acdc_submission(probabilities, arrays, args)
    maps = attention_maps(model, arrays)
    scale = 255 // max(task.foreground)
    for i, name in enumerate(arrays["name"]):
        _save_png((labels[i] * scale).astype(np.uint8), names.path(name, "_mask.png", i))
        for level, attention in maps.items():
            mean = np.asarray(attention[i], dtype=np.float32).mean(axis=-1)
            low, high = float(mean.min()), float(mean.max())
            image = (mean - low) / (high - low) if high > low else np.zeros_like(mean)
            _save_png(
                (image * 255).astype(np.uint8), names.path(name, f"_attention_{level}.png", i)
            )
    print(
        f"wrote {len(labels)} masks"
        + (f" and attention maps ({', '.join(maps)})" if maps else "")
        + f" to {args.out}"
    )
    return 0


def _first_samples(arrays, limit, group):
    """The first `limit` samples, or with `group` (`"case"`, `"patient"`) the samples of
    the first `limit` groups (volumes cut into slices, so that each goes back whole)."""
    import numpy as np

    if group is None:
        return {key: value[:limit] for key, value in arrays.items()}
    first = list(dict.fromkeys(np.asarray(arrays[group]).tolist()))[:limit]
    keep = np.flatnonzero(np.isin(arrays[group], first))
    return {
        key: [value[i] for i in keep] if isinstance(value, list) else value[keep]
        for key, value in arrays.items()
    }


def _window(args, model):
    """The window size `--roi-size` asks for: None (whole samples), or one size per
    spatial axis (`auto`: the training samples' size, rounded up to the network's
    multiple)."""
    from inside_keras.data.prepared import load_prepared
    from inside_keras.evaluation.sliding_window import check_roi, pooling_multiple

    text = args.roi_size.strip().lower()
    if text == "whole":
        return None
    multiple = pooling_multiple(model)
    if multiple is None:  # a network saved before it padded: whole samples only
        if text != "auto":
            raise InputError(
                "this model was saved by an older inside-keras and takes whole samples only",
                "--roi-size",
            )
        return None
    spatial_dims = len(model.input["image"].shape) - 2
    if text == "auto":
        trained = load_prepared(args.data, mmap=True)["x"].shape[1:-1]
        return tuple(n + (-n) % multiple for n in trained)
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(
            f"expected auto, whole or sizes such as 64 or 64,64,32, got {args.roi_size!r}",
            "--roi-size",
        ) from None
    return check_roi(sizes if len(sizes) > 1 else sizes[0], multiple, spatial_dims)


def _save_png(pixels, path):
    """Write a uint8 image atomically."""
    from PIL import Image

    from inside_keras.runs.atomic import atomic_path

    with atomic_path(path) as temporary:
        Image.fromarray(pixels).save(temporary, format="PNG")


def _write_acdc_submission(probabilities, arrays, args):
    """The predicted label volumes in the challenge's layout, in `SUBMISSION_FOLDER`."""
    from inside_keras.evaluation.acdc.submission import write_submission

    folder = args.out / SUBMISSION_FOLDER
    if folder.exists() and not folder.is_dir():
        raise InputError("a file where predict writes its folder of label volumes", folder)
    folder.mkdir(exist_ok=True)
    paths = write_submission(probabilities, arrays, _acdc_source(args), args.source_split, folder)
    patients = len(set(arrays["patient"].tolist()))
    print(
        f"wrote {len(paths)} label volumes of {patients} patients on their source grids to "
        f"{folder} (score them: inside-keras score acdc --predictions {folder} "
        f"--split {args.source_split} --only-predicted)"
    )
