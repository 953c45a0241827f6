"""Running a reproduction: each method's experiment trained, scored the same way.

`run_reproduction(spec, output, data_dir)` resolves the experiment's data once
(`inside_keras.data.ready`), trains every method's experiment config
(`ReproductionSpec.method_config`) in parallel `inside-keras train` jobs
(`jobs.train_methods`), predicts the test split with each best model, scores it
with the spec's evaluation (`inside_keras.reproduce.datasets`), draws the attention
figures and writes into the output folder:

    results.json    {"dataset", "backend", "loss", "spec" (the spec file), "experiment"
                     (the shared config), "data" (the prepared file), "source" (when
                     scoring reads the source folder), "methods": {name: {"dice",
                     "dice_std", ..., "epochs", "train_seconds"}}}
    results.md      the same as Markdown tables
    attention_<method>.png
                    input / prediction / ground truth / attention for test samples,
                    for each method whose network has attention maps
    <method>/       each method's training run (model.keras, log.csv, curves.png, ...)
    logs/           each training job's config and output

With `data.generate.folds: K` (ACDC) it is a K-fold cross-validation
(`inside_keras.reproduce.folds`): every method is trained once per fold, in
`fold_<k>/<method>/` (jobs and logs named `fold_<k>/<method>`), on the prepared file
that holds fold k out; the held-out predictions of all folds are pooled in
`<method>/submission/` and scored once (`<method>/scores/`). `results.json` then adds
`"folds"` (K) and `"fold_data"` (the K prepared files); a method's `epochs` is the
list over folds and `train_seconds` their sum; the figures show fold 0's test split.
Finished runs are reused, so a killed run, rerun, trains only what is missing and
scores again.
"""

import dataclasses
from pathlib import Path

from inside_keras.config import config_to_dict
from inside_keras.errors import InputError
from inside_keras.reproduce.jobs import default_jobs, train_methods

#: Splits every prepared dataset must hold samples of.
REQUIRED_SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class PreparedData:
    """Where a reproduction's data is.

    Args:
        path: the prepared `.npz` file the methods train on.
        source: the dataset folder it was prepared from, when scoring reads it again
            (ACDC's volumes); None otherwise.
    """

    path: Path
    source: Path | None = None


def resolve_data(spec, data_dir, verbose):
    """The `PreparedData` of a spec: its prepared file (made if missing) and, for ACDC
    scoring, the source folder.

    Raises:
        InputError: ACDC scoring without a `generate` section to find the volumes by.
    """
    from inside_keras.data.ready import acdc_source, prepared_file

    data = spec.base_config().data
    path = prepared_file(data, data_dir, workers=None, verbose=verbose)
    if spec.evaluation != "acdc":
        return PreparedData(path)
    if data.generate is None or data.generate.dataset != "acdc":
        raise InputError(
            "ACDC scoring reads the source volumes: give generate: {dataset: acdc, ...} "
            "(with source: DIR for a real ACDC folder) instead of a prepared path",
            f"{spec.source}: experiment.data",
        )
    folder = Path(data_dir) / data.generate.dataset
    return PreparedData(path, acdc_source(folder, data.generate, verbose=False))


def check_splits(arrays, path):
    """Raise `InputError` unless the prepared `arrays` have samples in every split."""
    counts = {split: int((arrays["split"] == split).sum()) for split in REQUIRED_SPLITS}
    empty = [split for split, count in counts.items() if count == 0]
    if empty:
        raise InputError(
            f"no samples in split(s) {empty} (counts: {counts}); the comparison needs "
            f"samples in each of {list(REQUIRED_SPLITS)}",
            path,
        )


def _mean_std_cell(entry, digits):
    if entry["mean"] is None:
        return "n/a"
    return f"{entry['mean']:.{digits}f} ± {entry['std']:.{digits}f}"


def _fold_cell(row, metric, digits):
    return _mean_std_cell(row["fold_mean"][metric], digits)


def _epochs_cell(epochs):
    return ", ".join(map(str, epochs)) if isinstance(epochs, list) else str(epochs)


def write_results(out_dir, results, evaluation, config):
    """`results.json` and `results.md` in `out_dir` (atomically)."""
    from inside_keras.runs.atomic import write_json, write_text

    out_dir = Path(out_dir)
    write_json(out_dir / "results.json", results)
    folds = results.get("folds")
    columns = list(evaluation.table_columns())
    if folds:
        title = f"Held-out Dice of {folds}-fold cross-validation on {results['dataset']}"
        dice_header = "pooled Dice (mean ± std)"
        columns = [
            ("Dice over folds (mean ± std)", lambda row: _fold_cell(row, "dice", 3)),
            *columns,
            ("HD95 over folds (mm, mean ± std)", lambda row: _fold_cell(row, "hd95_mm", 2)),
        ]
    else:
        title, dice_header = f"Test Dice on {results['dataset']}", "test Dice (mean ± std)"
    headers = ["method", dice_header, *(h for h, _ in columns), "epochs", "train time (s)"]
    lines = [
        f"{title} ({results['backend']} backend, loss {results['loss']}, "
        f"{evaluation.describe(config)})",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for name, row in results["methods"].items():
        cells = [name, f"{row['dice']:.3f} ± {row['dice_std']:.3f}"]
        cells += [cell(row) for _, cell in columns]
        cells += [_epochs_cell(row["epochs"]), f"{row['train_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    details = evaluation.markdown_details(results)
    if details:
        lines += ["", *details]
    write_text(out_dir / "results.md", "\n".join(lines) + "\n")


def _plot_attention(maps, test, labels, indices, titles, out_path):
    """The figure of the test samples `indices` with the first level's attention `maps`."""
    from inside_keras.evaluation.plots import plot_samples
    from inside_keras.evaluation.predict import truth_labels

    plot_samples(
        test["x"][indices],
        truth_labels(test)[indices],
        labels[indices],
        next(iter(maps.values())),
        out_path,
        titles,
    )


def spec_folds(spec):
    """The number of cross-validation folds of `spec` (None: one train/val/test split)."""
    generate = spec.base_config().data.generate
    return generate.folds if generate is not None else None


def output_folders(spec):
    """The folders a reproduction of `spec` writes at the top of its output folder: the
    jobs' `logs`, each method's run (or, with folds, its pooled submission and scores)
    and each fold's runs. `OutputFolder` refuses a folder of the user's of these names."""
    folds = spec_folds(spec)
    return ["logs", *spec.methods, *(f"fold_{fold}" for fold in range(folds or 0))]


def _job_name(method, fold):
    """A training job's name: the method, or `fold_<k>/<method>` in a cross-validation."""
    return method if fold is None else f"fold_{fold}/{method}"


def run_reproduction(spec, output, data_dir, jobs=None, verbose=1):
    """Run the reproduction `spec`; returns the results dict (see the module docstring).

    Args:
        spec: a `ReproductionSpec`.
        output: the results folder, an `inside_keras.runs.outputs.OutputFolder` already
            checked; it is created (with its marker) only once the data is good.
        data_dir: dataset root for generated and prepared data (reused when present).
        jobs: training runs at once (see `train_methods`); None: one per CPU.
        verbose: show progress (data, training of each method, test Dice).

    Raises:
        InputError: bad data (e.g. a split without samples), or an output folder
            holding a reproduction with another number of folds.
        RuntimeError: a training job failed.
    """
    # Data first: generation may fork worker processes, which must happen before a
    # Keras backend (multithreaded) is loaded in this process. Bad data stops the run
    # before anything is written in the output folder.
    data = resolve_data(spec, Path(data_dir), verbose=bool(verbose))

    from inside_keras.data.prepared import load_prepared, select_split
    from inside_keras.reproduce.folds import PooledScoring, fold_files

    base = spec.base_config()
    folds = spec_folds(spec)
    paths = [data.path] if folds is None else fold_files(data.path, base.data.generate)
    for path in paths:
        check_splits(load_prepared(path), path)
    if output.earlier is not None and output.details.get("folds") != folds:
        raise InputError(
            f"holds a reproduction with folds {output.details.get('folds')}, not {folds}; "
            "choose another folder",
            output.path,
        )
    output.create({"folds": folds} if folds else None)
    out_dir = output.path

    import keras

    from inside_keras.evaluation.predict import attention_maps, predict_arrays, to_labels
    from inside_keras.reproduce.datasets import evaluation_of
    from inside_keras.runs.files import CHECKPOINT_DIR, MODEL_FILE
    from inside_keras.training.checkpoint import load_model, read_state

    evaluation = evaluation_of(spec.evaluation)
    fold_ids = [None] if folds is None else list(range(folds))
    configs = {}
    for fold, path in zip(fold_ids, paths, strict=True):
        for method in spec.methods:
            run_root = out_dir if fold is None else out_dir / f"fold_{fold}"
            config = spec.method_config(method, run_root)
            resolved = dataclasses.replace(
                config.data, path=str(Path(path).resolve()), generate=None
            )
            configs[_job_name(method, fold)] = dataclasses.replace(config, data=resolved)
    jobs = jobs or default_jobs(len(configs))
    seconds = train_methods(configs, out_dir, jobs, verbose=bool(verbose))
    results = {
        "dataset": spec.evaluation,
        "backend": keras.backend.backend(),
        "loss": base.training.loss,
        "spec": spec.source,
        "experiment": config_to_dict(base),
        "data": str(data.path),
        **({"source": str(data.source)} if data.source is not None else {}),
        **({"folds": folds, "fold_data": [str(path) for path in paths]} if folds else {}),
        "methods": {},
    }
    rows = {}
    pooled = {m: PooledScoring(out_dir / m, data.source) for m in spec.methods} if folds else {}
    for fold, path in zip(fold_ids, paths, strict=True):
        test = select_split(load_prepared(path), "test")
        if fold in (None, 0):  # the figures show the test split of the first fold
            indices, titles = evaluation.figure_samples(test)
        for method in spec.methods:
            model = load_model(Path(configs[_job_name(method, fold)].output.dir) / MODEL_FILE)
            probabilities = predict_arrays(model, test)
            if fold is None:
                rows[method] = evaluation.score(probabilities, test, data)
            else:
                pooled[method].add(fold, probabilities, test)
            if fold not in (None, 0):
                continue
            maps = attention_maps(model, {key: test[key][indices] for key in ("x", "z")})
            if maps:
                labels = to_labels(probabilities)
                figure = out_dir / f"attention_{method}.png"
                _plot_attention(maps, test, labels, indices, titles, figure)
    for method in spec.methods:
        row = rows[method] if folds is None else pooled[method].finish()
        names = [_job_name(method, fold) for fold in fold_ids]
        epochs = [read_state(Path(configs[n].output.dir) / CHECKPOINT_DIR).epoch for n in names]
        row["epochs"] = epochs[0] if folds is None else epochs
        row["train_seconds"] = sum(seconds[name] for name in names)
        results["methods"][method] = row
        if verbose:
            what = "pooled held-out Dice" if folds else "test Dice"
            over_folds = ""
            if folds:
                over_folds = f" (over folds {_mean_std_cell(row['fold_mean']['dice'], 3)})"
            soft = f", soft Dice {row['dice_soft']:.3f}" if "dice_soft" in row else ""
            print(f"{method}: {what} {row['dice']:.3f}{soft}{over_folds}", flush=True)
    write_results(out_dir, results, evaluation, base)
    return results
