"""The benchmark in this process on tiny shapes: record schema and sane numbers (no timing
assertions)."""

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import keras
import pytest

from inside_keras.benchmark.memory import PeakMemory
from inside_keras.benchmark.report import format_table, machine_info, write_json
from inside_keras.benchmark.runner import check_backends, run_backend, run_in_subprocesses
from inside_keras.benchmark.settings import (
    CONFIGURATIONS,
    BenchSettings,
    Workload,
    gpu_settings,
    tiny_settings,
)
from inside_keras.benchmark.throughput import generate_images_per_s, pipeline_samples
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


def test_pipeline_record_per_workload(records):
    pipelines = [r for r in records if r["kind"] == "pipeline"]
    assert [r["spatial_dims"] for r in pipelines] == [2, 3]
    for pipeline in pipelines:
        assert pipeline["backend"] == keras.backend.backend()
        assert pipeline["precision"] == "float32"
        assert pipeline["pipeline_batches_per_s"] > 0 and pipeline["step_batches_per_s"] > 0
        assert pipeline["pipeline_batches_per_s_without_flips"] > 0


def test_encoder_decoder_in_mixed_bfloat16():
    workload = Workload((8, 8, 3), batch_size=2, architecture="encoder_decoder")
    settings = replace(
        tiny_settings((("none", "none"), ("inside", "all"))),
        workloads=(workload,),
        precisions=("mixed_bfloat16",),
        jit_compile=None,  # one compile costs less than eager bfloat16 ops one by one
    )
    records = run_backend(settings, log=lambda message: None)
    steps = [r for r in records if r["kind"] == "train_step"]
    assert [(r["conditioning"], r["placement"]) for r in steps] == [("none", "none")]
    for r in steps:
        assert r["architecture"] == "encoder_decoder" and r["precision"] == "mixed_bfloat16"
        assert math.isfinite(r["images_per_s"]) and r["images_per_s"] > 0
        assert r["device"] == "cpu" and "gpu_peak_mb" not in r
    assert "| mixed_bfloat16 | none | none |" in format_table(records)


def test_gpu_suite_sizes_and_encoder_decoder_configurations():
    settings = gpu_settings()
    shapes = [(w.architecture, w.input_shape, w.batch_size) for w in settings.workloads]
    assert shapes == [
        ("encoder_decoder", (200, 200, 3), 32),
        ("unet", (128, 128, 1), 16),
        ("unet", (64, 128, 128, 1), 2),
    ]
    assert settings.precisions == ("float32", "mixed_bfloat16")
    encoder_decoder = settings.workloads[0].configurations(settings.configurations)
    assert [c for c, _ in encoder_decoder] == ["none", "film", "guide_me", "inside"]
    assert len(settings.workloads[1].configurations(settings.configurations)) == 7
    quick = gpu_settings(quick=True)
    assert [w.architecture for w in quick.workloads] == [w.architecture for w in settings.workloads]
    assert BenchSettings.from_dict(json.loads(json.dumps(quick.to_dict()))) == quick


def test_pipeline_samples_fit_the_memory_cap():
    volume = Workload((64, 128, 128, 1), batch_size=2)
    assert pipeline_samples(volume, 256, 512) == 64  # 8 MiB per sample
    assert pipeline_samples(volume, 256, 1) == 4  # at least two batches


def test_time_limit_keeps_what_finished():
    settings = replace(tiny_settings(MEASURED), time_limit=0.01)
    records, stopped = run_in_subprocesses(["jax"], settings)
    assert stopped == ["jax"] and records == []


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
    with pytest.raises(ValueError, match="precisions"):
        BenchSettings(precisions=("float16",))
    with pytest.raises(InputError, match="allowed: jax, torch, tensorflow, all"):
        check_backends("numpy")


def test_cli_bad_suite_is_one_line(capsys):
    assert main(["bench", "--suite", "tpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--suite" in err[0] and "allowed: cpu, gpu" in err[0]


def test_cli_bad_backend_is_one_line(capsys):
    assert main(["bench", "--backend", "numpy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--backend" in err[0] and "numpy" in err[0]


def _run_script(name, *args):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / name
    run = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_pipeline_script_sets_the_gpu_step_beside_the_pipeline(tmp_path):
    result = tmp_path / "pipeline.json"
    _run_script("pipeline.py", "--quick", "--epochs", "1", "--json", str(result))
    records = json.loads(result.read_text())["results"]
    assert [r["input_shape"][-1] for r in records] == [3, 1, 1]
    for record in records:
        step = record["gpu_step"]
        assert step["file"].startswith("bench-") and step["batches_per_s"] > 0
        assert record["pipeline_threads"] >= 1 and record["pipeline_batches_per_s"] > 0
        for suffix in ("", "_without_flips"):
            ratio = record[f"pipeline_batches_per_s{suffix}"] / step["batches_per_s"]
            assert record[f"pipeline_over_step{suffix}"] == pytest.approx(ratio)


def test_attention_coverage_script(tmp_path):
    result = tmp_path / "coverage.json"
    _run_script("attention_coverage.py", "--sizes", "64", "--json", str(result))
    paper, relative = json.loads(result.read_text())["results"]
    assert paper["bottleneck"] == relative["bottleneck"] == 16
    # The widest Gaussian of the paper, 3.5 px: above 0.5 within 3.5 sqrt(2 ln 2) px.
    assert paper["widest_share"] == pytest.approx((7 * math.sqrt(2 * math.log(2)) / 16) ** 2)
    assert relative["widest_share"] == 1.0
    for record in (paper, relative):
        assert 0 < record["mean"] < 1
        assert 0 <= record["share_above_0.5"] <= record["share_above_0.1"] <= 1


def test_compile_suite_compares_eager_and_compiled_steps(tmp_path):
    from inside_keras.benchmark.settings import compile_settings

    settings = compile_settings(quick=True)
    assert settings.compare_compile and len(settings.workloads) == 1
    records = run_backend(settings, log=lambda message: None)
    (record,) = records
    assert record["kind"] == "compile" and record["backend"] == keras.backend.backend()
    assert record["eager_step_ms"] > 0 and record["compiled_step_ms"] > 0
    assert record["compiled_vs_eager"] > 0 and record["compile_s"] >= 0
    assert record["compiled_first_step_s"] >= record["compile_s"]
    write_json(tmp_path / "compile.json", machine_info(), records)
    assert "| inside bottleneck |" in format_table(records)
    gpu = compile_settings(gpu=True)
    assert [(w.architecture, w.input_shape, w.batch_size) for w in gpu.workloads] == [
        ("encoder_decoder", (200, 200, 3), 32),
        ("unet", (128, 128, 1), 16),
    ]
