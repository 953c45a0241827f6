"""The benchmark in this process on tiny shapes: record schema and sane numbers (no timing
assertions)."""

import json
import math

import keras
import pytest

from inside_keras.benchmark.memory import PeakMemory
from inside_keras.benchmark.report import format_table, machine_info, write_json
from inside_keras.benchmark.runner import check_backends, run_backend
from inside_keras.benchmark.settings import CONFIGURATIONS, BenchSettings, tiny_settings
from inside_keras.benchmark.throughput import generate_images_per_s
from inside_keras.benchmark.timing import interleaved_times, paired_ratios
from inside_keras.cli import main
from inside_keras.errors import InputError

#: A subset keeps this test to seconds (compiling 14 models takes minutes on JAX).
MEASURED = (("none", "none"), ("inside", "bottleneck"))


@pytest.fixture(scope="module")
def records():
    return run_backend(tiny_settings(MEASURED), log=lambda message: None)


def test_default_configurations_cover_every_layer_and_placement():
    expected = {("none", "none")} | {
        (c, p) for c in ("film", "guide_me", "inside") for p in ("bottleneck", "all")
    }
    assert set(BenchSettings().configurations) == expected == set(CONFIGURATIONS)


def test_records_cover_every_configuration(records):
    steps = [r for r in records if r["kind"] == "train_step"]
    expected = {(dims, c, p) for dims in (2, 3) for c, p in MEASURED}
    assert {(r["spatial_dims"], r["conditioning"], r["placement"]) for r in steps} == expected
    assert len(steps) == len(expected)
    for r in steps:
        assert r["backend"] == keras.backend.backend()
        for key in ("step_ms", "ratio_vs_none", "inference_images_per_s"):
            assert math.isfinite(r[key]) and r[key] > 0, (key, r)
        assert math.isfinite(r["peak_memory_mb"]) and r["peak_memory_mb"] >= 0
        if r["conditioning"] == "none":
            assert r["placement"] == "none" and r["ratio_vs_none"] == 1.0


def test_pipeline_record(records):
    (pipeline,) = [r for r in records if r["kind"] == "pipeline"]
    assert pipeline["backend"] == keras.backend.backend()
    assert pipeline["pipeline_batches_per_s"] > 0 and pipeline["step_batches_per_s"] > 0


def test_json_schema_and_table(records, tmp_path):
    path = tmp_path / "out" / "results.json"
    generate = {
        "kind": "generate",
        "images_per_s": generate_images_per_s(1, 32),
        "images": 1,
        "size": 32,
    }
    write_json(path, machine_info(), [*records, generate])
    data = json.loads(path.read_text())
    assert set(data) == {"machine", "results"} and data["machine"]["cpu_count"] >= 1
    assert len(data["results"]) == len(records) + 1
    table = format_table(data["results"])
    assert "| inside | bottleneck |" in table and "pipeline / step" in table and "images/s" in table


def test_write_json_rejects_bad_numbers(tmp_path):
    bad = {
        "kind": "train_step",
        "backend": "jax",
        "spatial_dims": 2,
        "conditioning": "none",
        "placement": "none",
        "step_ms": float("nan"),
        "ratio_vs_none": 1.0,
        "peak_memory_mb": 1.0,
    }
    with pytest.raises(ValueError, match="step_ms"):
        write_json(tmp_path / "x.json", {}, [bad])


def test_interleaved_times_and_paired_ratios():
    calls = []
    tasks = [lambda k=k: calls.append(k) for k in range(3)]
    times = interleaved_times(tasks, 3)
    assert times.shape == (3, 3) and (times > 0).all()
    assert calls == [0, 1, 2, 1, 2, 0, 2, 0, 1]
    assert paired_ratios(times)[0] == 1.0


def test_peak_memory_sees_an_allocation():
    import numpy as np

    with PeakMemory() as memory:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        del block
    assert memory.peak_mb > 32


def test_settings_round_trip_and_errors():
    settings = tiny_settings()
    assert BenchSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    with pytest.raises(ValueError, match="steps"):
        BenchSettings(steps=0)
    with pytest.raises(InputError, match="allowed: jax, torch, tensorflow, all"):
        check_backends("numpy")


def test_cli_bad_backend_is_one_line(capsys):
    assert main(["bench", "--backend", "numpy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--backend" in err[0] and "numpy" in err[0]
