"""The package's checkpoint format: what a run needs to continue exactly where it stopped.

A checkpoint is a folder holding

    state.json          `TrainingState`: finished epochs, best monitored value and its
                        epoch, early-stopping wait, whether the run has finished, and
                        the file names below
    epoch_NNN.keras     the model after the last finished epoch, optimizer state included
    epoch_MMM.keras     the model of the best epoch (the same file when it is the last)

Each epoch writes the new model file atomically, then `state.json` atomically, then
removes files `state.json` no longer names. A crash at any moment therefore leaves a
`state.json` whose files are complete: the run continues from the last epoch whose
state was written, and an epoch interrupted before that is run again. `train --resume`
and a restored Ray Tune trial read the same folder (`read_checkpoint`); every model
file the package writes loads through `load_model`.
"""

import dataclasses
import json
import math
import zipfile
from pathlib import Path

from inside_keras.errors import InputError
from inside_keras.runs.atomic import atomic_path, write_json

STATE_FILE = "state.json"
#: Version of the `state.json` layout.
FORMAT = 1


@dataclasses.dataclass(frozen=True)
class TrainingState:
    """Where a run stands after its last finished epoch.

    Args:
        epoch: finished epochs (also the epoch the data order continues from).
        best: best value of the monitored metric so far (`inf` before the first epoch).
        best_epoch: the 1-based epoch of `best` (0 before the first epoch).
        wait: epochs since the last improvement (early stopping).
        finished: the run ended (all epochs, or stopped early).
        latest: model file of the last finished epoch.
        best_model: model file of the best epoch.
    """

    epoch: int = 0
    best: float = math.inf
    best_epoch: int = 0
    wait: int = 0
    finished: bool = False
    latest: str | None = None
    best_model: str | None = None

    def to_json(self):
        data = dataclasses.asdict(self)
        data["best"] = None if math.isinf(self.best) else self.best
        return {"format": FORMAT, **data}


def model_file(epoch):
    """File name of the model after `epoch` finished epochs."""
    return f"epoch_{epoch:03d}.keras"


def write_checkpoint(folder, model, state):
    """Save `model` as the model of `state.latest` and record `state`, atomically.

    Args:
        folder: the checkpoint folder (created if missing).
        model: the Keras model after `state.epoch` epochs.
        state: the new `TrainingState`; `state.latest` is the file `model` is saved to.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / state.latest) as temporary:
        model.save(temporary)
    write_json(folder / STATE_FILE, state.to_json())
    keep = {STATE_FILE, state.latest, state.best_model}
    for path in folder.glob("epoch_*.keras"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def read_state(folder):
    """The `TrainingState` in `folder`, or None if it holds no checkpoint.

    Raises:
        InputError: `state.json` is damaged or names files that are missing.
    """
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.pop("format") != FORMAT:
            raise ValueError(f"format {FORMAT} expected")
        data["best"] = math.inf if data["best"] is None else float(data["best"])
        state = TrainingState(**data)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError) as error:
        raise InputError(f"damaged checkpoint state ({error})", path) from None
    for name in (state.latest, state.best_model):
        if name is not None and not (Path(folder) / name).is_file():
            raise InputError(f"damaged checkpoint: {name} is missing", folder)
    return state


def holds_a_finished_epoch(root):
    """Whether `root` or a folder under it (a run, a reproduction's method runs) holds a
    checkpoint of at least one finished epoch: something worth resuming. A damaged
    checkpoint counts (it is the user's to look at, never thrown away)."""
    for path in Path(root).glob("**/" + STATE_FILE):
        try:
            state = read_state(path.parent)
        except InputError:
            return True
        if state is not None and state.epoch > 0:
            return True
    return False


def read_checkpoint(folder):
    """`(model, state)` of the checkpoint in `folder` (the model compiled, with its
    optimizer state), or `(None, None)` if the folder holds no checkpoint.

    Raises:
        InputError: the checkpoint is damaged.
    """
    state = read_state(folder)
    if state is None or state.latest is None:
        return None, None
    return load_model(Path(folder) / state.latest), state


def load_model(path):
    """A `.keras` model written by this package (any backend), compiled as it was saved.

    Imports `inside_keras.models.custom_objects` first: the package's layers, losses and metrics
    register themselves with Keras, which needs them to rebuild the model.

    Raises:
        InputError: no such file, or a file Keras cannot load.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder; expected a .keras model file", path)
    if not path.is_file():
        raise InputError("no such model file", path)
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise InputError("not a .keras model archive (zip written by model.save)", path)
    import keras

    import inside_keras.models.custom_objects  # noqa: F401

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - any load failure is a bad model file
        text = str(error).strip()
        message = text.splitlines()[0][:200] if text else type(error).__name__
        raise InputError(f"cannot load the model ({message})", path) from None
