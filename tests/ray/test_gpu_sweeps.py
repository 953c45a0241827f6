"""Sweeps on GPUs, on a machine without any: a `ray start --head --num-gpus 2` node
declares two, so Ray schedules trials of `--gpus-per-trial 0.5` four at a time and sets
each trial's `CUDA_VISIBLE_DEVICES`; the trials (PyTorch's CPU build, or no GPU) train
on the CPU."""

import csv
import json
import subprocess

import pytest

from tests.ray.nodes import RayStartCluster
from tests.runs import CLI
from tests.sweep.specs import write_spec

EPOCHS = 10


@pytest.fixture(scope="module")
def gpu_head():
    cluster = RayStartCluster()
    try:
        cluster.start_head(num_cpus=4, num_gpus=2)
        yield cluster
    finally:
        cluster.stop()


def _sweep(spec, out, cluster, *options):
    command = [*CLI, "sweep", str(spec), "--out", str(out), "--address", cluster.address]
    env = cluster.env(cluster.head_home)
    return subprocess.run(
        [*command, *options], env=env, capture_output=True, text=True, timeout=600
    )


def reports(trial_dir):
    """The trial's reports, from Tune's result.json."""
    lines = (trial_dir / "result.json").read_text().split("\n")
    return [json.loads(line) for line in lines if line]


def reporting_span(trial_dir):
    """`(first, last)`, a span in which the trial surely ran: after its first report and
    before its last, from Tune's result.json. Each report has `timestamp` (whole seconds,
    rounded down) and `time_total_s` (the time the trial had run; at least the difference
    of two reports' `time_total_s` passed between them), so the first report came before
    `timestamp + 1 - (time_total_s - first time_total_s)` of every report and the last
    after `timestamp + (last time_total_s - time_total_s)` of every report."""
    reported = reports(trial_dir)
    first_total, last_total = reported[0]["time_total_s"], reported[-1]["time_total_s"]
    first = min(r["timestamp"] + 1 - (r["time_total_s"] - first_total) for r in reported)
    last = max(r["timestamp"] + (last_total - r["time_total_s"]) for r in reported)
    assert first < last, reported
    return first, last


def most_at_once(spans):
    """The largest set of spans (`{key: (start, end)}`) that share a moment."""
    best = set()
    for start, _ in spans.values():
        running = {other for other, (s, e) in spans.items() if s <= start < e}
        if len(running) > len(best):
            best = running
    return best


def test_trials_of_half_a_gpu_run_four_at_once_on_two_gpus(tmp_path, data, gpu_head):
    changes = {
        "search": {"num_samples": 3},  # 3 x 2 placements: 6 trials
        "scheduler": {"name": "fifo"},
        "experiment": {"training": {"epochs": EPOCHS}},
    }
    spec = write_spec(tmp_path, data, changes)
    out = tmp_path / "out"
    result = _sweep(spec, out, gpu_head, "--gpus-per-trial", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out / "trials.csv", newline="") as stream:
        rows = {row["trial_id"]: row for row in csv.DictReader(stream)}
    assert len(rows) == 6
    assert all(row["status"] == "TERMINATED" for row in rows.values())
    assert all(row["epochs"] == str(EPOCHS) for row in rows.values())
    gpus = {trial: row["cuda_visible_devices"] for trial, row in rows.items()}
    assert set(gpus.values()) == {"0", "1"}, gpus  # one GPU each, as Ray set it

    spans, losses = {}, {}
    for trial_dir in sorted((out / "ray_results" / "sweep").glob("trial_*")):
        trial = trial_dir.name.removeprefix("trial_")
        spans[trial] = reporting_span(trial_dir)
        losses[trial] = [report["val_loss"] for report in reports(trial_dir)]
    together = most_at_once(spans)
    assert len(together) == 4, spans  # 2 GPUs / 0.5: four at once, never more
    assert sorted(gpus[trial] for trial in together) == ["0", "0", "1", "1"], spans
    for trial, values in losses.items():  # trained (on the CPU): val_loss fell
        assert values[-1] < 0.95 * values[0], (trial, values)


def test_more_gpus_per_trial_than_a_node_has_is_refused(tmp_path, data, gpu_head):
    result = _sweep(write_spec(tmp_path, data), tmp_path / "out", gpu_head, "--gpus-per-trial", "3")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr == (
        "inside-keras sweep: error: resources.gpus_per_trial: 3.0 GPUs per trial, but the "
        "largest node of the cluster has 2 (cluster total 2); use at most 2\n"
    )
    assert not (tmp_path / "out" / "ray_results").exists()  # refused before the sweep
