"""The one training loop: `fit_experiment`, used by `train`, `reproduce` and sweep trials.

`fit_experiment(config, arrays, checkpoint_dir)` builds the network an
`ExperimentConfig` describes (or restores it from the checkpoint in `checkpoint_dir`),
and fits it with Adam, early stopping on the validation loss (the paper's min delta
1e-4 and patience 25) and a stop on a NaN or infinite loss, writing the package's
checkpoint (`inside_keras.checkpoint`) after every epoch. Callers add their own
callbacks: `train` a CSV log, a sweep trial its report to Ray Tune.

`train(config)` is the `train` command's run: it reads the prepared data, fits, and
keeps everything in `config.output.dir`:

    config.yaml     the resolved experiment config
    version.json    package, Keras and backend versions
    model.keras     the model of the best monitored epoch (or, with `training.final_model:
                    last`, of the last), written when the run ends
    log.csv         one row per finished epoch
    checkpoint/     the run's checkpoint (`train --resume` continues from it)
    curves.png      the loss curves (written by the command)
    .inside-keras.json  the marker: this folder holds a `train` run (`inside_keras.outputs`)
"""

import contextlib
import dataclasses
import math
import shutil
from pathlib import Path

import keras
import numpy as np

from inside_keras import __version__
from inside_keras.atomic import atomic_path, write_json
from inside_keras.checkpoint import TrainingState, model_file, read_checkpoint, write_checkpoint
from inside_keras.config import config_to_dict, save_config
from inside_keras.errors import InputError
from inside_keras.quiet import raise_if_interrupted
from inside_keras.run_files import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LOG_FILE,
    MODEL_FILE,
    VERSION_FILE,
)

ARCHITECTURES = ("encoder_decoder", "unet")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped. Retrying will not help."""


@dataclasses.dataclass
class FitResult:
    """What `fit_experiment` did.

    Args:
        state: the `TrainingState` after the last finished epoch.
        initial_epoch: epochs already finished before this call.
        history: metrics per epoch of this call (Keras `History.history`).
        devices: the devices each batch was split over (`training.distribution`).
    """

    state: TrainingState
    initial_epoch: int
    history: dict
    devices: int = 1

    @property
    def epochs_run(self):
        """Epochs run by this call."""
        return len(self.history.get("loss", []))


def num_classes_of(arrays):
    """Output channels a network needs for prepared arrays: 1 for binary float masks,
    else the number of class ids (at least 2). The largest id is found a block at a
    time, so a memory-mapped `y` is not read into memory whole."""
    from inside_keras.data.mapped import blocks

    y = arrays["y"]
    if y.dtype == np.float32:
        return 1
    return max(2, max(int(block.max()) for block in blocks(y)) + 1)


@contextlib.contextmanager
def dtype_policy(precision):
    """Keras's global dtype policy set to `precision` inside, the previous one restored
    after (models built later in the process are not affected)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@contextlib.contextmanager
def distribution_scope(distribution):
    """The Keras distribution `training.distribution` names, in effect inside; yields
    the number of devices a batch is split over.

    `"data_parallel"`: `keras.distribution.DataParallel` over every device Keras lists
    (variables replicated, each batch split along its first axis), which Keras
    implements on JAX only. Batches that do not split evenly (a batch size that is
    not a multiple of the devices, the last batch of a split) are padded by
    `make_batches` with zero-weighted samples.

    Raises:
        InputError: data parallel on another backend.
    """
    if distribution == "none":
        yield 1
        return
    backend = keras.backend.backend()
    if backend != "jax":
        raise InputError(
            f"data_parallel runs on the JAX backend only (Keras's distribution API); "
            f"this is {backend}: set KERAS_BACKEND=jax, or training.distribution: none",
            "training.distribution",
        )
    devices = keras.distribution.list_devices()
    with keras.distribution.DataParallel(devices=devices).scope():
        yield len(devices)


def poolings(model_config):
    """The 2x poolings of the network a `ModelConfig` describes."""
    from inside_keras.models.encoder_decoder import POOLINGS

    return POOLINGS if model_config.architecture == "encoder_decoder" else model_config.depth


def uses_guide_me(model_config):
    """Whether the network has a Guide Me layer (whose attention has one value per row
    and column of its map, so the network takes one image size only)."""
    from inside_keras.models import resolve_placement

    if model_config.architecture == "encoder_decoder":
        return model_config.conditioning == "guide_me"
    try:
        levels = resolve_placement(
            model_config.placement, model_config.depth, model_config.conditioning
        )
    except ValueError as error:
        raise InputError(str(error), "model.placement") from None
    return "guide_me" in levels.values()


def check_fits(model_config, data_shape):
    """Raise InputError unless the network's poolings fit the data's spatial sizes:
    `2**poolings` may not exceed the smallest of them (the bottleneck would hold no
    pixel of the image along that axis, only padding)."""
    need = 2 ** poolings(model_config)
    spatial = tuple(data_shape[:-1])
    if need <= min(spatial):
        return
    axes = {1: "", 2: " (H x W)", 3: " (D x H x W)"}.get(len(spatial), "")
    sizes = "x".join(map(str, spatial)) + axes
    if model_config.architecture == "encoder_decoder":
        raise InputError(
            f"the encoder-decoder pools twice and needs at least {need} px along each axis; "
            f"the samples are {sizes}: use architecture: unet with a small depth",
            "model.architecture",
        )
    deepest = int(math.log2(min(spatial))) if min(spatial) >= 2 else 0
    hint = f"use depth <= {deepest}" if deepest >= 1 else "resample the data to at least 2 px"
    raise InputError(
        f"depth {model_config.depth} needs at least {need} px along each axis; the samples "
        f"are {sizes}: {hint}",
        "model.depth",
    )


def build_model(model_config, input_shape, condition_dim, num_classes, precision="float32"):
    """The network described by a `ModelConfig`, for data of the given shapes.

    The network takes images of any spatial size (`None` sizes; it pads what its
    poolings need and crops back, `inside_keras.models.size_padding`), so that the
    saved model predicts on other sizes than it was trained on; a network with a Guide
    Me layer keeps the data's size, which its attention is made for.

    Args:
        model_config: the `ModelConfig`.
        input_shape: the data's image shape without the batch axis.
        condition_dim: length of the condition vector.
        num_classes: output channels (1: binary).
        precision: a `config.PRECISIONS` value, the dtype policy the layers are built
            under (the output layer is float32 under every policy).

    Raises:
        InputError: a network whose poolings do not fit the data, or any other choice the
            network builders refuse (the message names the config key).
    """
    check_fits(model_config, input_shape)
    if not uses_guide_me(model_config):
        input_shape = (*(None for _ in input_shape[:-1]), input_shape[-1])
    with dtype_policy(precision):
        try:
            return _build_network(model_config, input_shape, condition_dim, num_classes)
        except ValueError as error:
            raise InputError(str(error).rstrip("."), "model") from None


def _build_network(model_config, input_shape, condition_dim, num_classes):
    from inside_keras.models import encoder_decoder, unet

    if model_config.architecture == "encoder_decoder":
        if num_classes != 1:
            raise InputError(
                f"the encoder-decoder segments one class; the data has {num_classes}: "
                "use architecture: unet",
                "model.architecture",
            )
        return encoder_decoder(
            input_shape,
            condition_dim,
            conditioning=model_config.conditioning,
            conditioning_options=model_config.conditioning_options,
        )
    if model_config.architecture == "unet":
        return unet(
            input_shape,
            num_classes,
            condition_dim,
            depth=model_config.depth,
            base_filters=model_config.base_filters,
            conditioning=model_config.conditioning,
            placement=model_config.placement,
            norm=model_config.norm,
            dropout=model_config.dropout,
            conditioning_options=model_config.conditioning_options,
        )
    raise InputError(
        f"unknown architecture {model_config.architecture!r}; allowed: {list(ARCHITECTURES)}",
        "model.architecture",
    )


def precision_optimizer(optimizer, precision):
    """`optimizer`, wrapped in a `keras.optimizers.LossScaleOptimizer` for
    `"mixed_float16"` (float16 gradients underflow without loss scaling)."""
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def compile_model(model, training_config, num_classes):
    """Adam with the configured learning rate (loss-scaled for `mixed_float16`), the
    configured loss, the Dice metrics and, for a loss summed over pixels, its mean per
    pixel (`pixel_loss`); compiled with the configured `jit_compile`."""
    from inside_keras.evaluation.keras_metrics import dice_metrics
    from inside_keras.losses import get_loss

    try:
        loss = get_loss(training_config.loss)
    except ValueError as error:
        raise InputError(str(error), "training.loss") from None
    if loss.reduction == "sum_over_batch_size":
        # The same mean without weights; with the zero-weighted samples that pad a batch
        # for data parallel, the mean of the real samples alone.
        loss.reduction = "mean_with_sample_weight"
    optimizer = keras.optimizers.Adam(training_config.learning_rate)
    per_pixel = [loss.pixel_metric()] if hasattr(loss, "pixel_metric") else []
    model.compile(
        optimizer=precision_optimizer(optimizer, training_config.precision),
        loss=loss,
        # Weighted: Keras gives sample weights to `weighted_metrics` only, and the samples
        # that pad a batch for data parallel must count for nothing there too.
        weighted_metrics=[*dice_metrics(num_classes), *per_pixel],
        jit_compile=training_config.jit_compile,
    )
    return model


def split_for_training(arrays, source):
    """The train and val splits of prepared arrays; InputError if either is empty."""
    from inside_keras.data.prepared import select_split

    train_arrays, val_arrays = select_split(arrays, "train"), select_split(arrays, "val")
    if len(train_arrays["x"]) == 0 or len(val_arrays["x"]) == 0:
        raise InputError("needs samples in both the train and val splits", source)
    return train_arrays, val_arrays


def make_batches(config, train_arrays, val_arrays, devices=1):
    """Shuffled (and, with `data.augment`, flipped) train batches; val batches in order.

    Both are assembled by `batch_threads()` threads, ahead of the train step. Over
    several `devices` (data parallel) every batch is padded to a multiple of them with
    zero-weighted samples (`ConditionedBatches`'s `batch_multiple`).
    """
    from inside_keras.data.batching import ConditionedBatches, augmentation_for, batch_threads

    flips = ("horizontal", "vertical") if config.data.augment else ()
    threads = {"workers": batch_threads(), "use_multiprocessing": False, "batch_multiple": devices}
    try:
        train_batches = ConditionedBatches(
            train_arrays,
            batch_size=config.training.batch_size,
            shuffle=True,
            flips=flips,
            seed=config.training.seed,
            flip_rule=augmentation_for(train_arrays) if flips else None,
            **threads,
        )
    except ValueError as error:
        raise InputError(str(error), "data.augment") from None
    val_batches = ConditionedBatches(val_arrays, batch_size=config.training.batch_size, **threads)
    return train_batches, val_batches


class StopOnCtrlC(keras.callbacks.Callback):
    """Raises `KeyboardInterrupt` after the batch in which Ctrl-C was pressed, should a
    library have swallowed the first one (`inside_keras.quiet`)."""

    def on_train_batch_end(self, batch, logs=None):
        raise_if_interrupted()

    def on_test_batch_end(self, batch, logs=None):
        raise_if_interrupted()

    def on_epoch_end(self, epoch, logs=None):
        raise_if_interrupted()


class RunKeeper(keras.callbacks.Callback):
    """Early stopping, a stop on a non-finite loss and the per-epoch checkpoint.

    Keeps the run's `TrainingState` (Keras's `EarlyStopping` rule on
    `training.monitor`: an epoch improves when `value < best - min_delta`; training
    stops once `patience` epochs in a row did not) and writes it with the model after
    every epoch whose loss stayed finite.

    Args:
        folder: the checkpoint folder.
        state: the `TrainingState` to continue from.
        training: the `TrainingConfig` (epochs, patience, min_delta).
    """

    def __init__(self, folder, state, training):
        super().__init__()
        self.folder, self.state, self.training = Path(folder), state, training
        self.diverged_at = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is not None:
            return
        logs = logs or {}
        monitor = self.training.monitor
        if monitor not in logs:
            raise InputError(f"no {monitor} in the epoch's logs (is there a val split?)")
        value = float(logs[monitor])
        improved = value < self.state.best - self.training.min_delta
        wait = 0 if improved else self.state.wait + 1
        latest = model_file(epoch + 1)
        self.state = TrainingState(
            epoch=epoch + 1,
            best=value if improved else self.state.best,
            best_epoch=epoch + 1 if improved else self.state.best_epoch,
            wait=wait,
            finished=wait >= self.training.patience or epoch + 1 >= self.training.epochs,
            latest=latest,
            best_model=latest if improved else self.state.best_model,
        )
        write_checkpoint(self.folder, self.model, self.state)
        if wait >= self.training.patience:
            self.model.stop_training = True


def fit_experiment(config, arrays, checkpoint_dir, *, log_path=None, callbacks=(), verbose=0):
    """Train the experiment `config` on prepared `arrays`, continuing from a checkpoint.

    Args:
        config: the `ExperimentConfig`.
        arrays: prepared arrays (`inside_keras.data.prepared`) with train and val samples.
        checkpoint_dir: the run's checkpoint folder; if it holds a checkpoint, training
            continues from it (model, optimizer state, early-stopping state, data order).
        log_path: CSV log to append one row per finished epoch to (written before the
            checkpoint, so a crash leaves at most rows the resumed run truncates).
        callbacks: more Keras callbacks, run after the epoch's checkpoint is written.
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).

    Returns:
        A `FitResult`.

    Raises:
        InputError: bad data or config, a damaged checkpoint.
        TrainingDiverged: the loss became NaN or infinite.
    """
    training = config.training
    with distribution_scope(training.distribution) as devices:
        result = _fit(config, arrays, checkpoint_dir, log_path, callbacks, verbose, devices)
    return dataclasses.replace(result, devices=devices)


def _fit(config, arrays, checkpoint_dir, log_path, callbacks, verbose, devices):
    train_arrays, val_arrays = split_for_training(arrays, "prepared data")
    keras.utils.set_random_seed(config.training.seed)
    model, state = read_checkpoint(checkpoint_dir)
    if model is None:
        num_classes = num_classes_of(arrays)
        model = build_model(
            config.model,
            arrays["x"].shape[1:],
            arrays["z"].shape[1],
            num_classes,
            config.training.precision,
        )
        compile_model(model, config.training, num_classes)
        state = TrainingState()
    if state.finished:
        return FitResult(state=state, initial_epoch=state.epoch, history={})
    train_batches, val_batches = make_batches(config, train_arrays, val_arrays, devices)
    train_batches.set_epoch(state.epoch)
    keeper = RunKeeper(checkpoint_dir, state, config.training)
    logger = [keras.callbacks.CSVLogger(log_path, append=True)] if log_path else []
    history = model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=config.training.epochs,
        initial_epoch=state.epoch,
        callbacks=[StopOnCtrlC(), *logger, keeper, *callbacks],
        verbose=verbose,
    )
    if keeper.diverged_at is not None:
        epoch, batch, loss = keeper.diverged_at
        raise TrainingDiverged(
            f"loss became {loss} at epoch {epoch + 1}, batch {batch}: training stopped. "
            f"Try a lower training.learning_rate (now {config.training.learning_rate})."
        )
    return FitResult(state=keeper.state, initial_epoch=state.epoch, history=history.history)


def run_is_finished(out_dir):
    """Whether `out_dir` holds a finished `train` run (its final model written)."""
    from inside_keras.checkpoint import read_state

    out_dir = Path(out_dir)
    if not (out_dir / MODEL_FILE).is_file():
        return False
    state = read_state(out_dir / CHECKPOINT_DIR)
    return state is not None and state.finished


def check_same_config(out_dir, config):
    """Raise InputError unless the run in `out_dir` was started with `config`."""
    from inside_keras.config import read_yaml_mapping

    out_dir = Path(out_dir)
    saved_path = out_dir / CONFIG_FILE
    if not saved_path.is_file():
        raise InputError("nothing to resume: no config.yaml from an earlier run", out_dir)
    saved = read_yaml_mapping(saved_path)
    current = config_to_dict(config)
    missing = object()
    changed = sorted(
        f"{section}.{key}"
        for section in current
        for key in current[section]
        if _saved_value(saved, section, key, getattr(config, section), missing)
        != current[section][key]
    )
    if changed:
        raise InputError(
            f"holds a run of a different config (changed: {', '.join(changed)}); "
            "continue it with its own config, or choose a new output folder",
            saved_path,
        )


def _saved_value(saved, section, key, current_section, missing):
    """The saved config's `section.key`; a key the run's package version did not have
    yet counts as its default (a run saved before `training.precision` existed)."""
    value = (saved.get(section) or {}).get(key, missing)
    if value is not missing:
        return value
    field = next(f for f in dataclasses.fields(current_section) if f.name == key)
    if field.default is not dataclasses.MISSING:
        return field.default
    return missing


def _truncate_log(log_path, epochs):
    """Keep the rows of the first `epochs` epochs of a CSV log (rows a crash left after
    the last checkpoint are dropped), atomically."""
    import csv

    if not log_path.is_file():
        return
    with open(log_path, newline="") as stream:
        rows = [row for row in csv.DictReader(stream) if int(row["epoch"]) < epochs]
    if not rows:
        log_path.unlink()
        return
    with atomic_path(log_path) as temporary, open(temporary, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@dataclasses.dataclass
class TrainResult:
    """A `train` run.

    Args:
        out_dir: the run's folder.
        fit: the `FitResult` of this call (None if the run had already finished).
        state: the run's final `TrainingState`.
    """

    out_dir: Path
    fit: FitResult | None
    state: TrainingState


def train(config, arrays, output, resume=False, verbose=1):
    """The `train` command's run of `config` on prepared `arrays`; see the module docstring.

    Args:
        config: the experiment config.
        arrays: the prepared arrays the config's data names.
        output: the `inside_keras.outputs.OutputFolder` of `config.output.dir`, checked
            by the command before it prepared the data.
        resume: continue the run in `config.output.dir` from its checkpoint. A run
            that has finished is left untouched.
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).

    Returns:
        A `TrainResult`.

    Raises:
        InputError: bad data or config, an output folder that holds a run already
            (without `resume`), or none, a different or a damaged one (with `resume`).
        TrainingDiverged: the loss became NaN or infinite.
    """
    from inside_keras.checkpoint import read_state

    out_dir = Path(config.output.dir)
    checkpoint_dir, log_path = out_dir / CHECKPOINT_DIR, out_dir / LOG_FILE
    if resume:
        if output.earlier is None:
            raise InputError("nothing to resume: no run of inside-keras train here", out_dir)
        check_same_config(out_dir, config)
        state = read_state(checkpoint_dir)
        if run_is_finished(out_dir):
            return TrainResult(out_dir=out_dir, fit=None, state=state)
        _truncate_log(log_path, state.epoch if state else 0)
    else:
        if output.earlier is not None and (out_dir / CONFIG_FILE).exists():
            raise InputError(
                "holds a run already; pass --resume to continue it, or choose a new folder",
                out_dir,
            )
        output.create()
        save_config(config, out_dir / CONFIG_FILE)
        write_json(
            out_dir / VERSION_FILE,
            {
                "inside_keras": __version__,
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
            },
        )
    fit = fit_experiment(config, arrays, checkpoint_dir, log_path=log_path, verbose=verbose)
    if fit.state.finished:
        kept = fit.state.best_model if config.training.final_model == "best" else fit.state.latest
        with atomic_path(out_dir / MODEL_FILE) as temporary:
            shutil.copyfile(checkpoint_dir / kept, temporary)
    return TrainResult(out_dir=out_dir, fit=fit, state=fit.state)
