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


def write_results(out_dir, results, evaluation, config):
    """`results.json` and `results.md` in `out_dir` (atomically)."""
    from inside_keras.atomic import write_json, write_text

    out_dir = Path(out_dir)
    write_json(out_dir / "results.json", results)
    columns = tuple(evaluation.table_columns())
    headers = ["method", "test Dice (mean ± std)", *(h for h, _ in columns)]
    headers += ["epochs", "train time (s)"]
    lines = [
        f"Test Dice on {results['dataset']} ({results['backend']} backend, "
        f"loss {results['loss']}, {evaluation.describe(config)})",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for name, row in results["methods"].items():
        cells = [name, f"{row['dice']:.3f} ± {row['dice_std']:.3f}"]
        cells += [cell(row) for _, cell in columns]
        cells += [str(row["epochs"]), f"{row['train_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    details = evaluation.markdown_details(results)
    if details:
        lines += ["", *details]
    write_text(out_dir / "results.md", "\n".join(lines) + "\n")


def _plot_attention(maps, test, labels, indices, titles, out_path):
    """The figure of the test samples `indices` with the first level's attention `maps`."""
    from inside_keras.evaluation.predict import truth_labels
    from inside_keras.plots import plot_samples

    plot_samples(
        test["x"][indices],
        truth_labels(test)[indices],
        labels[indices],
        next(iter(maps.values())),
        out_path,
        titles,
    )


def run_reproduction(spec, output, data_dir, jobs=None, verbose=1):
    """Run the reproduction `spec`; returns the results dict (see the module docstring).

    Args:
        spec: a `ReproductionSpec`.
        output: the results folder, an `inside_keras.outputs.OutputFolder` already
            checked; it is created (with its marker) only once the data is good.
        data_dir: dataset root for generated and prepared data (reused when present).
        jobs: methods trained at once (see `train_methods`); None: one per CPU.
        verbose: show progress (data, training of each method, test Dice).

    Raises:
        InputError: bad data (e.g. a split without samples).
        RuntimeError: a training job failed.
    """
    # Data first: generation may fork worker processes, which must happen before a
    # Keras backend (multithreaded) is loaded in this process. Bad data stops the run
    # before anything is written in the output folder.
    data = resolve_data(spec, Path(data_dir), verbose=bool(verbose))

    from inside_keras.data.prepared import load_prepared, select_split

    arrays = load_prepared(data.path)
    check_splits(arrays, data.path)
    output.create()
    out_dir = output.path

    import keras

    from inside_keras.checkpoint import load_model, read_state
    from inside_keras.evaluation.predict import attention_maps, predict_arrays, to_labels
    from inside_keras.reproduce.datasets import evaluation_of
    from inside_keras.run_files import CHECKPOINT_DIR, MODEL_FILE

    evaluation = evaluation_of(spec.evaluation)
    base = spec.base_config()
    configs = {}
    for method in spec.methods:
        config = spec.method_config(method, out_dir)
        resolved = dataclasses.replace(config.data, path=str(Path(data.path).resolve()))
        configs[method] = dataclasses.replace(
            config, data=dataclasses.replace(resolved, generate=None)
        )
    jobs = jobs or default_jobs(len(configs))
    seconds = train_methods(configs, out_dir, jobs, verbose=bool(verbose))
    test = select_split(arrays, "test")
    results = {
        "dataset": spec.evaluation,
        "backend": keras.backend.backend(),
        "loss": base.training.loss,
        "spec": spec.source,
        "experiment": config_to_dict(base),
        "data": str(data.path),
        **({"source": str(data.source)} if data.source is not None else {}),
        "methods": {},
    }
    indices, titles = evaluation.figure_samples(test)
    for method, config in configs.items():
        run_dir = Path(config.output.dir)
        model = load_model(run_dir / MODEL_FILE)
        probabilities = predict_arrays(model, test)
        labels = to_labels(probabilities)
        row = evaluation.score(probabilities, test, data)
        row["epochs"] = read_state(run_dir / CHECKPOINT_DIR).epoch
        row["train_seconds"] = seconds[method]
        results["methods"][method] = row
        if verbose:
            print(f"{method}: test Dice {row['dice']:.3f}", flush=True)
        maps = attention_maps(model, {key: test[key][indices] for key in ("x", "z")})
        if maps:
            figure = out_dir / f"attention_{method}.png"
            _plot_attention(maps, test, labels, indices, titles, figure)
    write_results(out_dir, results, evaluation, base)
    return results
