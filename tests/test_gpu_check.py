"""`benchmarks/gpu_check_summary.py`: the summary is assembled from whatever steps
finished, a reproduction stopped at its time limit included. (The whole
`benchmarks/gpu_check.sh --quick` takes about five minutes on a 2-core CPU.)"""

import json
import subprocess
import sys
from pathlib import Path

SUMMARY = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check_summary.py"


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def _step(out, name, status, seconds):
    _write(
        out / "steps" / f"{name}.json",
        {"step": name, "status": status, "exit_code": 0, "seconds": seconds, "limit_s": 60},
    )


def _bench_record():
    return {
        "kind": "train_step",
        "backend": "jax",
        "architecture": "encoder_decoder",
        "precision": "mixed_bfloat16",
        "spatial_dims": 2,
        "conditioning": "inside",
        "placement": "bottleneck",
        "step_ms": 10.0,
        "images_per_s": 3200.0,
        "ratio_vs_none": 1.02,
        "peak_memory_mb": 5.0,
        "gpu_peak_mb": 900.0,
        "input_shape": [200, 200, 3],
        "batch_size": 32,
    }


def test_summary_of_a_partly_finished_check(tmp_path):
    out = tmp_path / "out"
    _step(out, "bench-jax", "timeout", 130)
    _step(out, "tests-jax", "ok", 80)
    _write(out / "logs" / "device-jax.log", 'noise\n{"backend": "jax", "gpu": "NVIDIA H200"}\n')
    _write(out / "logs" / "tests-jax.log", "....\n172 passed, 1 skipped in 80.1s\n")
    bench = {"machine": {"stopped_at_time_limit": ["jax"]}, "results": [_bench_record()]}
    _write(out / "bench-jax.json", bench)
    work = tmp_path / "work"
    _write(out / "reproduce_dir.txt", str(work))
    _write(
        work / "reproduce" / "inside" / "checkpoint" / "state.json",
        {"epoch": 37, "finished": False, "best": 0.0123},
    )
    done = subprocess.run(
        [sys.executable, str(SUMMARY), str(out), "--budget", "540"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "gpu_check.json").read_text())
    assert summary["steps"]["bench-jax"]["status"] == "timeout"
    assert summary["devices"]["jax"]["gpu"] == "NVIDIA H200"
    assert summary["tests"]["jax"] == {"passed": 172, "skipped": 1}
    assert summary["reproduce"]["finished"] is False
    assert summary["reproduce"]["methods"]["inside"]["epochs"] == 37
    table = (out / "gpu_check.md").read_text()
    assert "| 2-D encoder_decoder 200x200x3 b32 | mixed_bfloat16 | inside |" in table
    assert "| 900 |" in table and "jax: stopped at the time limit" in table
    assert "not finished" in table and "| inside |  |  | 37 |  | 0.0123 |" in table


def test_summary_of_a_finished_check_with_both_dice_and_the_compile_comparison(tmp_path):
    out = tmp_path / "out"
    _step(out, "reproduce", "ok", 250)
    compiled = {
        "kind": "compile",
        "backend": "torch",
        "architecture": "unet",
        "spatial_dims": 2,
        "conditioning": "inside",
        "placement": "bottleneck",
        "eager_step_ms": 67.0,
        "compiled_step_ms": 20.1,
        "compiled_vs_eager": 0.3,
        "compile_s": 41.5,
        "input_shape": [128, 128, 1],
        "batch_size": 16,
    }
    _write(out / "compile-torch.json", {"machine": {}, "results": [compiled]})
    work = tmp_path / "work"
    _write(out / "reproduce_dir.txt", str(work))
    row = {"dice": 0.5, "dice_std": 0.1, "dice_soft": 0.4, "dice_soft_std": 0.05}
    results = {"methods": {"inside": {**row, "epochs": 100, "train_seconds": 200.0}}}
    _write(work / "reproduce" / "results.json", results)
    _write(work / "reproduce" / "results.md", "| inside |\n")
    done = subprocess.run(
        [sys.executable, str(SUMMARY), str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "gpu_check.json").read_text())
    assert summary["reproduce"]["methods"]["inside"]["dice_soft"] == 0.4
    table = (out / "gpu_check.md").read_text()
    assert "| inside | 0.500 ± 0.100 | 0.400 ± 0.050 | 100 | 200 |  |" in table
    assert (
        "| torch | 2-D unet 128x128x1 b16 | inside bottleneck | 67.0 | 20.1 | 0.30 | 41.5 |"
        in table
    )
