"""Experiment tracking with MLflow: `train --track mlflow` and `sweep --track mlflow`.

MLflow comes with the `track` extra and is imported only when tracking is asked for.
The store is the one `--track-uri` names, else `$MLFLOW_TRACKING_URI`, else an SQLite
file in the command's output folder, `OUT/mlflow.db` (`store_uri`): no server, and the
command writes only inside its output folder. A store shared by several runs is any URI
MLflow takes, e.g. `--track-uri sqlite:///runs/mlflow.db` (relative to the current
folder) or a tracking server's `http://HOST:5000`.

Why SQLite and mlflow-skinny (measured with MLflow 3.18 on Python 3.11, 2 CPU cores):
MLflow stores runs in a database by default since 3.7 and refuses its file store
(`mlruns/`) unless `MLFLOW_ALLOW_FILE_STORE=true`. mlflow-skinny holds the tracking
client and the SQL store, which needs SQLAlchemy and Alembic: 150 MB installed with
its dependencies, against 750 MB for `mlflow` (its server, UI, pandas, pyarrow,
scikit-learn...). Importing it takes 2 to 3 s; a new SQLite store is created in about
10 s (MLflow's schema migrations), an existing one opened in 2 to 3 s. `mlflow ui`
needs the full `mlflow` package.
"""

import os
import time

import keras

from inside_keras.errors import InputError

#: The `track` extra, for messages.
TRACK_EXTRA = "pip install 'inside-keras[track]'"
#: The run tag holding a `train` run's output folder (a resumed run continues its run).
OUT_DIR_TAG = "inside_keras.out_dir"


def check_mlflow_installed():
    """Raise `InputError` (naming the pip command) unless MLflow is installed; checked
    without importing it (a command may still fork worker processes after)."""
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        raise InputError(f"MLflow is not installed; {TRACK_EXTRA}", "--track")


def import_mlflow():
    """`mlflow`, its log lines below warnings unless `MLFLOW_LOGGING_LEVEL` says otherwise
    (so a command's stderr keeps its own lines)."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    import mlflow

    return mlflow


def store_uri(uri, out_dir):
    """The tracking URI: `uri` if given, else `$MLFLOW_TRACKING_URI`, else the SQLite
    file `MLFLOW_STORE` in `out_dir`."""
    from pathlib import Path

    from inside_keras.runs.files import MLFLOW_STORE

    default = f"sqlite:///{Path(out_dir, MLFLOW_STORE).resolve()}"
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or default


def open_store(uri):
    """An `MlflowClient` of the store `uri`, checked by reading it (an SQLite store that
    does not exist yet is created).

    Raises:
        InputError: MLflow cannot use the store (the message is MLflow's reason), or an
            SQLite store's SQLAlchemy or Alembic is not installed.
    """
    import importlib.util

    sql = ("sqlalchemy", "alembic") if uri.startswith("sqlite:") else ()
    missing = [name for name in sql if importlib.util.find_spec(name) is None]
    if missing:  # MLflow's own message would say its model registry is unavailable
        raise InputError(f"MLflow's SQLite store needs {missing[0]}; {TRACK_EXTRA}", uri)
    mlflow = import_mlflow()
    from mlflow.exceptions import MlflowException

    try:
        client = mlflow.MlflowClient(uri)
        client.search_experiments(max_results=1)
    except MlflowException as error:
        raise InputError(f"MLflow cannot store runs there: {error.message}", uri) from None
    except OSError as error:  # e.g. an SQLite file whose folder cannot be made
        raise InputError(f"MLflow cannot store runs there: {error}", uri) from None
    return client


def experiment_id(client, name):
    """The id of the MLflow experiment `name`, created if it does not exist."""
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment else client.create_experiment(name)


def dotted_values(mapping, prefix=""):
    """The leaves of a nested mapping by dotted name, as strings: `{"training":
    {"epochs": 3}}` gives `{"training.epochs": "3"}` (the experiment config's own names)."""
    values = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            values.update(dotted_values(value, f"{name}."))
        else:
            values[name] = str(value)
    return values


class MLflowTracker(keras.callbacks.Callback):
    """Log a training run to MLflow: its config as parameters, its epochs as metrics.

    One MLflow run per output folder, in the experiment `experiment`, named `run_name`
    and tagged with the folder (`OUT_DIR_TAG`) and the Keras backend. Its parameters are
    `params` (the experiment config by dotted name); its metrics, after every epoch, the
    epoch's logs (`loss`, `dice`, `val_loss`, ...) and `learning_rate`, at the number of
    finished epochs as the step. The run is marked finished when training ends; one
    interrupted stays running, and a training continued from its checkpoint (`train
    --resume`) continues it.

    The store is opened when training begins (an SQLite store in the output folder is
    created then, once the folder exists).

    Args:
        uri: the tracking URI (`store_uri`).
        experiment: the MLflow experiment's name.
        run_name: the run's name.
        out_dir: the run's output folder.
        params: `{name: value}` logged as the run's parameters.

    Raises:
        InputError: (when training begins) MLflow cannot use the store.
    """

    def __init__(self, uri, experiment, run_name, out_dir, params):
        super().__init__()
        self.uri, self.experiment, self.run_name = uri, experiment, run_name
        self.out_dir, self.params_to_log = str(out_dir), params
        self.client = self.run_id = None

    def on_train_begin(self, logs=None):
        self.client = open_store(self.uri)  # imports MLflow, quietly
        from mlflow.entities import Param

        experiment = experiment_id(self.client, self.experiment)
        unfinished = self.client.search_runs(
            [experiment], filter_string="attributes.status = 'RUNNING'"
        )
        earlier = [run for run in unfinished if run.data.tags.get(OUT_DIR_TAG) == self.out_dir]
        if earlier:
            self.run_id = earlier[0].info.run_id
            return
        tags = {OUT_DIR_TAG: self.out_dir, "inside_keras.backend": keras.backend.backend()}
        run = self.client.create_run(experiment, run_name=self.run_name, tags=tags)
        self.run_id = run.info.run_id
        params = [Param(name, value) for name, value in self.params_to_log.items()]
        self.client.log_batch(self.run_id, params=params)

    def on_epoch_end(self, epoch, logs=None):
        from mlflow.entities import Metric

        from inside_keras.training.tensorboard_logs import learning_rate

        values = {name: float(value) for name, value in (logs or {}).items()}
        values.setdefault("learning_rate", learning_rate(self.model.optimizer))
        now = int(time.time() * 1000)
        metrics = [Metric(name, value, now, epoch + 1) for name, value in values.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def on_train_end(self, logs=None):
        self.client.set_terminated(self.run_id)
