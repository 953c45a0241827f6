"""The files of a `train` run folder (see `inside_keras.training`); cheap to import."""

MODEL_FILE, LOG_FILE, CONFIG_FILE, VERSION_FILE, CHECKPOINT_DIR = (
    "model.keras",
    "log.csv",
    "config.yaml",
    "version.json",
    "checkpoint",
)
CURVES_FILE = "curves.png"
#: TensorBoard's event files (`inside_keras.training.tensorboard_logs`) and, with
#: `--track mlflow`, MLflow's store (`inside_keras.training.mlflow_tracking`).
TENSORBOARD_DIR, MLFLOW_STORE = "tensorboard", "mlflow.db"
#: Everything a run writes at the top of its folder.
RUN_ENTRIES = (
    MODEL_FILE,
    LOG_FILE,
    CONFIG_FILE,
    VERSION_FILE,
    CHECKPOINT_DIR,
    CURVES_FILE,
    TENSORBOARD_DIR,
    MLFLOW_STORE,
)
