"""The files of a `train` run folder (see `inside_keras.training`); cheap to import."""

MODEL_FILE, LOG_FILE, CONFIG_FILE, VERSION_FILE, CHECKPOINT_DIR = (
    "model.keras",
    "log.csv",
    "config.yaml",
    "version.json",
    "checkpoint",
)
CURVES_FILE = "curves.png"
#: Everything a run writes at the top of its folder.
RUN_ENTRIES = (MODEL_FILE, LOG_FILE, CONFIG_FILE, VERSION_FILE, CHECKPOINT_DIR, CURVES_FILE)
