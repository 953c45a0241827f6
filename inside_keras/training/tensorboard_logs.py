"""Watching a run live in TensorBoard, on every backend, without TensorFlow.

`TensorBoardWatch` is a Keras callback that writes TensorBoard event files (Keras's own
`keras.callbacks.TensorBoard` imports `tensorflow.summary`, so it needs TensorFlow even
on JAX and PyTorch). Into its folder (`OUT/tensorboard/` for `train`) it writes two
TensorBoard runs, laid out as Keras's callback lays them out, so that TensorBoard draws
each training curve over its validation curve:

    train/        epoch_loss, epoch_dice, ... (the epoch's training logs) and
                  epoch_learning_rate
    validation/   epoch_loss, epoch_dice, ... (the epoch's `val_` logs, without the
                  prefix); images of the fixed validation samples `watched_samples`
                  chose: `predictions`, the figure `reproduce` draws (input, prediction,
                  ground truth and, for a network with attention, the first conditioned
                  level's attention over the input), and for each conditioned level with
                  an attention (INSIDE, Guide Me) `attention/<level>`, its maps (mean
                  over channels, scaled to [0, 1] per sample) at the level's resolution
                  (of the padded input, where the network pads the samples' size), the
                  samples side by side

The step of every value is the number of finished epochs. The images are drawn after
every `images_every`-th epoch (`training.images_every`, default 5) and after the last
one (the planned last, or the one early stopping ended on), by
`inside_keras.evaluation.plots.samples_figure` with the maps `inside_keras.models.attention_model`
reads; the first drawing compiles a predict function (on JAX, a few seconds). A volume
(3-D samples) is drawn by its middle slice along the first spatial axis; 1-D samples
are not drawn.
"""

from pathlib import Path

import keras
import numpy as np

#: Validation samples drawn, spread evenly over the val split.
WATCHED_SAMPLES = 4
#: The TensorBoard runs inside the callback's folder.
TRAIN_RUN, VALIDATION_RUN = "train", "validation"


def writer_installed():
    """Whether the event-file writer (tensorboardX, the `watch` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("tensorboardX") is not None


def watched_samples(arrays):
    """The fixed validation samples a run's images show: `WATCHED_SAMPLES` samples of the
    val split, spread evenly over it, as a dict of arrays `x`, `y`, `z` (read from a
    memory-mapped file, only these rows are read)."""
    val = np.flatnonzero(arrays["split"] == "val")
    spread = np.linspace(0, len(val) - 1, min(WATCHED_SAMPLES, len(val))).round()
    chosen = val[np.unique(spread.astype(int))]
    return {key: np.asarray(arrays[key][chosen]) for key in ("x", "y", "z")}


def _event_writer(folder, first_step):
    # The writer is tensorboardX's, chosen by measurement (Python 3.11, 2 CPU cores)
    # against the `tensorboard` package's own: 4 MB installed with its dependencies
    # (protobuf, packaging) against 80 MB (grpcio, werkzeug, tensorboard-data-server...);
    # 0.05 s to import against 0.10 s; images as well as scalars (tensorboard's `Writer`
    # writes scalars only); and no TensorFlow: tensorboard's event writer loads TensorFlow
    # where it is installed (its `tf.io.gfile`: 5 s under JAX). tensorboardX imports torch
    # where it is installed (2.8 s under JAX with torch beside it, nothing under PyTorch).
    # torch.utils.tensorboard needs both torch and the tensorboard package. Ray Tune
    # writes its trials' events with tensorboardX too, so the `tune` extra has it already.
    from tensorboardX import SummaryWriter

    # A resumed run purges the steps from `first_step` on that the interrupted run wrote
    # after its last checkpoint (a `SessionLog.START` event TensorBoard acts on).
    purge_step = first_step if first_step > 1 else None
    return SummaryWriter(str(folder), purge_step=purge_step, flush_secs=60)


def learning_rate(optimizer):
    """The optimizer's current learning rate as a float (a schedule's value at this step)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def _plane(array, volumes):
    """A batch of 2-D samples as it is; of `volumes` (3-D samples), their middle slice
    along the first spatial axis."""
    return array[:, array.shape[1] // 2] if volumes else array


def _rgb(figure):
    """A Matplotlib figure rendered at its own resolution, as an `(H, W, 3)` uint8 array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class TensorBoardWatch(keras.callbacks.Callback):
    """Write a run's losses, metrics, learning rate and images for TensorBoard.

    See the module docstring for the layout, the tags and when images are drawn. The
    event files are flushed after every epoch, so TensorBoard shows an epoch as soon as
    it ends. A run continued from a checkpoint (`initial_epoch` > 0) appends to the same
    folder, replacing what the interrupted run wrote after its last checkpoint.

    Args:
        folder: the folder of the event files (`tensorboard --logdir folder`).
        samples: the validation samples to draw (`watched_samples`), or None: no images.
        images_every: draw the images after every this many epochs and after the last;
            0: no images.

    Example:

    ```python
    watch = TensorBoardWatch("runs/x/tensorboard", watched_samples(arrays), images_every=5)
    fit_experiment(config, arrays, "runs/x/checkpoint", callbacks=[watch])
    ```
    """

    def __init__(self, folder, samples, images_every):
        super().__init__()
        self.folder, self.images_every = Path(folder), images_every
        drawable = samples is not None and samples["x"].ndim in (4, 5) and images_every > 0
        self.samples = samples if drawable else None
        self.writers = self.outputs_model = self.levels = None
        self.last_step = self.drawn_step = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.writers is None:
            self.writers = {
                run: _event_writer(self.folder / run, epoch + 1)
                for run in (TRAIN_RUN, VALIDATION_RUN)
            }

    def on_epoch_end(self, epoch, logs=None):
        step = self.last_step = epoch + 1
        for name, value in (logs or {}).items():
            run, tag = (VALIDATION_RUN, name[4:]) if name.startswith("val_") else (TRAIN_RUN, name)
            self.writers[run].add_scalar(f"epoch_{tag}", float(value), step)
        if "learning_rate" not in (logs or {}):
            rate = learning_rate(self.model.optimizer)
            self.writers[TRAIN_RUN].add_scalar("epoch_learning_rate", rate, step)
        if self.samples is not None and (
            step % self.images_every == 0 or step == self.params["epochs"]
        ):
            self._draw(step)
        for writer in self.writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        if self.writers is None:
            return
        stopped_early = self.last_step is not None and self.drawn_step != self.last_step
        if self.samples is not None and stopped_early:
            self._draw(self.last_step)
        for writer in self.writers.values():
            writer.close()
        self.writers = None

    def _draw(self, step):
        self.drawn_step = step
        from inside_keras.evaluation.plots import samples_figure
        from inside_keras.evaluation.predict import to_labels, truth_labels

        if self.outputs_model is None:
            self.outputs_model, self.levels = _outputs_model(self.model)
        inputs = {"image": self.samples["x"], "condition": self.samples["z"]}
        # Compiled on JAX and TensorFlow (once; calling the model eagerly compiles each of
        # its operations on JAX, several times slower at the first drawing).
        outputs = self.outputs_model.predict_on_batch(inputs)
        # A list of the prediction and each level's maps; the prediction alone for a
        # network without attention (Keras returns a one-output model's array as it is).
        prediction, *maps = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        volumes = self.samples["x"].ndim == 5
        maps = [_plane(np.asarray(level_maps, np.float32), volumes) for level_maps in maps]
        figure = samples_figure(
            _plane(self.samples["x"], volumes),
            _plane(truth_labels(self.samples), volumes),
            _plane(to_labels(np.asarray(prediction, np.float32)), volumes),
            maps[0] if maps else None,
        )
        validation = self.writers[VALIDATION_RUN]
        validation.add_image("predictions", _rgb(figure), step, dataformats="HWC")
        for level, level_maps in zip(self.levels, maps, strict=True):
            mean = level_maps.mean(axis=-1, keepdims=True)
            low = mean.min(axis=(1, 2), keepdims=True)
            span = mean.max(axis=(1, 2), keepdims=True) - low
            scaled = np.divide(mean - low, span, out=np.zeros_like(mean), where=span > 0)
            validation.add_images(f"attention/{level}", scaled, step, dataformats="NHWC")


def _outputs_model(model):
    """A model mapping `model`'s inputs to its prediction and the attention maps of its
    conditioned levels with an attention (`attention_model`), in one pass; and those
    levels."""
    from inside_keras.models import attention_model

    try:
        attention = attention_model(model).output
    except ValueError:  # no conditioning layer with an attention (none, FiLM)
        attention = {}
    outputs = [model.output, *attention.values()]
    return keras.Model(model.input, outputs, name=f"{model.name}_watched"), list(attention)
