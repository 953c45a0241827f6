"""`benchmarks/mapped_memory.py` on a tiny dataset: one record per size, the data
deleted afterwards (no assertions on the memory itself: that is what it measures)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import keras

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mapped_memory.py"


def test_records_and_no_data_left(tmp_path):
    data, result = tmp_path / "data", tmp_path / "memory.json"
    data.mkdir()
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--gigabytes", "0.001", "--steps", "1"]
        + ["--backend", keras.backend.backend(), "--tmp", str(data), "--json", str(result)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert list(data.iterdir()) == []
    (record,) = json.loads(result.read_text())["results"]
    assert record["samples"] == 64 and sum(record["splits"].values()) == 64
    assert (record["steps"], record["validation_batches"], record["batch_size"]) == (1, 1, 8)
    assert record["backend"] == keras.backend.backend()
    assert 0 < record["file_gib"] < 0.01
    for key in ("peak_rss_mib", "peak_rss_anon_mib", "train_seconds", "loss", "val_loss"):
        assert math.isfinite(record[key]) and record[key] > 0, key
