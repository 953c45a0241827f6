"""The comparison on any dataset: one `Reproduction` per dataset, one runner for all.

A `Reproduction` says how to make sure prepared data exists, which experiment config
each method trains, how a method's test predictions are scored and which test
samples the figures show. `run_reproduction` does the rest the same way for every
dataset: trains the four methods under identical settings (`jobs.train_methods`),
predicts the test split, scores it, draws the attention figures and writes into
`out_dir`:

    results.json    {"dataset", "backend", "loss", "settings", "data" (the prepared
                     file), "source" (when scoring reads the source folder), "methods":
                     {name: {"dice", "dice_std", ..., "epochs", "train_seconds"}}}
    results.md      the same as Markdown tables
    attention_inside.png, attention_guide_me.png
                    input / prediction / ground truth / attention for test samples
    <method>/       each method's training run (model.keras, log.csv, curves.png, ...)
    logs/           each training job's config and output
"""

import abc
import dataclasses
import json
from pathlib import Path

from inside_keras.config import DataConfig, ExperimentConfig, OutputConfig, TrainingConfig
from inside_keras.errors import InputError
from inside_keras.reproduce.jobs import default_jobs, train_methods

#: Method name in results -> conditioning type of the network.
METHODS = {"baseline": "none", "film": "film", "guide_me": "guide_me", "inside": "inside"}
#: Methods whose conditioning has a spatial attention map to draw.
ATTENTION_METHODS = ("inside", "guide_me")
#: Splits every prepared dataset must hold samples of.
REQUIRED_SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingSettings:
    """Training settings shared by all four methods of a reproduction; each dataset's
    settings extend these with its data and network sizes.

    Args:
        epochs: maximum epochs (early stopping on the validation loss).
        batch_size: samples per step.
        learning_rate: Adam's learning rate.
        loss: loss name (`inside_keras.losses`).
        patience: early-stopping patience in epochs (the paper: 25).
        seed: data and training seed.
    """

    epochs: int
    batch_size: int = 32
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    patience: int = 25
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"must be at least 1, got {getattr(self, name)}", name)

    def training_config(self):
        """The `TrainingConfig` every method trains with."""
        return TrainingConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            loss=self.loss,
            patience=self.patience,
            seed=self.seed,
        )


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


class Reproduction(abc.ABC):
    """One dataset's part of the comparison; `run_reproduction` does the rest.

    Subclasses are frozen dataclasses holding their `settings` (a `TrainingSettings`
    subclass) and define the abstract methods below.
    """

    #: Dataset name in `results.json`.
    dataset = None

    @abc.abstractmethod
    def ensure_data(self, data_dir, verbose):
        """Return a `PreparedData`, generating and preparing data in `data_dir` if missing."""

    @abc.abstractmethod
    def model_config(self, method):
        """The `ModelConfig` of `method` (a key of `METHODS`); methods differ only in it."""

    def method_config(self, method, data, out_dir):
        """The `ExperimentConfig` of `method` on `data` (a `PreparedData`), run in
        `out_dir/method`, with the training settings every method shares."""
        return ExperimentConfig(
            data=DataConfig(path=str(data.path)),
            model=self.model_config(method),
            training=self.settings.training_config(),
            output=OutputConfig(dir=str(Path(out_dir) / method)),
        )

    @abc.abstractmethod
    def score(self, labels, test, data):
        """Scores of predicted `labels` `(N, H, W)` of the `test` arrays.

        Returns:
            A JSON-ready dict starting with `"dice"` (the headline test Dice in [0, 1])
            and `"dice_std"`.
        """

    @abc.abstractmethod
    def figure_samples(self, test):
        """`(indices, titles)`: the test samples shown in the figures and their row titles."""

    @abc.abstractmethod
    def describe(self):
        """The settings in words, for the line above the results table."""

    def table_columns(self):
        """Extra columns of the results table: `(header, function of a method's row)`."""
        return ()

    def markdown_details(self, results):
        """Lines of Markdown written after the results table."""
        return []


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


def write_results(out_dir, results, reproduction):
    """`results.json` and `results.md` in `out_dir`."""
    out_dir = Path(out_dir)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, allow_nan=False))
    columns = tuple(reproduction.table_columns())
    headers = ["method", "test Dice (mean ± std)", *(h for h, _ in columns)]
    headers += ["epochs", "train time (s)"]
    lines = [
        f"Test Dice on {results['dataset']} ({results['backend']} backend, "
        f"loss {results['loss']}, {reproduction.describe()})",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for name, row in results["methods"].items():
        cells = [name, f"{row['dice']:.3f} ± {row['dice_std']:.3f}"]
        cells += [cell(row) for _, cell in columns]
        cells += [str(row["epochs"]), f"{row['train_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    details = reproduction.markdown_details(results)
    if details:
        lines += ["", *details]
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")


def _plot_attention(model, test, labels, indices, titles, out_path):
    from inside_keras.evaluation.predict import truth_labels
    from inside_keras.models import attention_model
    from inside_keras.plots import plot_samples

    maps = attention_model(model).predict(
        {"image": test["x"][indices], "condition": test["z"][indices]}, verbose=0
    )
    plot_samples(
        test["x"][indices],
        truth_labels(test)[indices],
        labels[indices],
        next(iter(maps.values())),
        out_path,
        titles,
    )


def run_reproduction(reproduction, out_dir, data_dir, jobs=None, verbose=1):
    """Run the comparison described by `reproduction`; returns the results dict.

    Args:
        reproduction: a `Reproduction` (the dataset and its settings).
        out_dir: results folder (see the module docstring).
        data_dir: folder for the generated and prepared data (reused when present).
        jobs: methods trained at once (see `train_methods`); None: one per CPU.
        verbose: print progress (data, jobs starting and ending, test Dice).

    Raises:
        InputError: bad data (e.g. a split without samples).
        RuntimeError: a training job failed.
    """
    # Data first: generation may fork worker processes, which must happen before a
    # Keras backend (multithreaded) is loaded in this process. Bad data stops the run
    # before anything is written in `out_dir`.
    data = reproduction.ensure_data(Path(data_dir), verbose=bool(verbose))

    from inside_keras.data.prepared import load_prepared, select_split

    arrays = load_prepared(data.path)
    check_splits(arrays, data.path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    import keras

    from inside_keras.evaluation.predict import predict_arrays, to_labels
    from inside_keras.training import LOG_FILE, MODEL_FILE, finished_epochs

    configs = {m: reproduction.method_config(m, data, out_dir) for m in METHODS}
    jobs = jobs or default_jobs(len(METHODS))
    seconds = train_methods(configs, out_dir, jobs, verbose=bool(verbose))
    test = select_split(arrays, "test")
    results = {
        "dataset": reproduction.dataset,
        "backend": keras.backend.backend(),
        "loss": reproduction.settings.loss,
        "settings": dataclasses.asdict(reproduction.settings),
        "data": str(data.path),
        **({"source": str(data.source)} if data.source is not None else {}),
        "methods": {},
    }
    indices, titles = reproduction.figure_samples(test)
    for method, config in configs.items():
        run_dir = Path(config.output.dir)
        model = keras.saving.load_model(run_dir / MODEL_FILE, safe_mode=True)
        labels = to_labels(predict_arrays(model, test))
        row = reproduction.score(labels, test, data)
        row["epochs"] = len(finished_epochs(run_dir / LOG_FILE))
        row["train_seconds"] = seconds[method]
        results["methods"][method] = row
        if verbose:
            print(f"{method}: test Dice {row['dice']:.3f}", flush=True)
        if method in ATTENTION_METHODS:
            figure = out_dir / f"attention_{method}.png"
            _plot_attention(model, test, labels, indices, titles, figure)
    write_results(out_dir, results, reproduction)
    return results
