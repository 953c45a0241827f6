"""Sweeps on a local Ray: outputs, a crashed trial, a killed and resumed sweep, Optuna.

These tests start a local Ray and train tiny U-Nets; nox runs them at the end of each
`tests(backend=...)` session (all of tests/ray on PyTorch, the crash recovery on JAX and
TensorFlow; see noxfile.py). Clusters started with `ray start`: test_clusters.py and
test_gpu_sweeps.py.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from inside_keras.cli import main
from inside_keras.config import load_config
from tests.ray.nodes import free_ports, kill_session
from tests.sweep.specs import SMALL_SPEC, write_spec


def _trials(out):
    with open(out / "trials.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def _reported(trial_dir, key):
    lines = (trial_dir / "result.json").read_text().splitlines()
    return [json.loads(line)[key] for line in lines if line.strip()]


def _reported_epochs(trial_dir):
    return _reported(trial_dir, "epoch")


def _trial_dirs(out):
    return sorted((out / "ray_results" / "sweep").glob("trial_*"))


def test_local_sweep_outputs_and_best_config_trains(tmp_path, data, capsys):
    spec = write_spec(tmp_path, data, {"search": {"num_samples": 2}})  # 2 x 2 placements
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--verbose", "0"]) == 0
    printed = capsys.readouterr().out
    assert "4 trials" in printed and "inside-keras train --config" in printed
    rows = _trials(out)
    assert len(rows) == 4 and {row["status"] for row in rows} == {"TERMINATED"}
    assert {row["model.placement"] for row in rows} == {"bottleneck", "all"}
    for row in rows:
        assert 1 <= int(row["epochs"]) <= 3
        assert (row["stopped_early"] == "True") == (int(row["epochs"]) < 3)
        assert 0.0 <= float(row["best_val_dice"]) <= 1.0
        assert 0.0 < float(row["val_dice_soft"]) < 1.0  # the authors' soft Dice, reported too
        assert row["node_ids"]  # each trial reported its Ray node id
    best = max(rows, key=lambda row: float(row["best_val_dice"]))
    assert float(rows[0]["best_val_dice"]) == float(best["best_val_dice"])  # best first
    assert (out / "sweep.png").stat().st_size > 10_000
    for trial_dir in _trial_dirs(out):  # every trial learned: its val_loss fell (~1.3 -> ~1.0)
        losses = _reported(trial_dir, "val_loss")
        assert losses[-1] < 0.95 * losses[0], losses
    config = load_config(out / "best_config.yaml")
    assert config.model.placement == best["model.placement"]
    assert config.model.conditioning_options["kernel"] == best["model.conditioning_options.kernel"]
    assert Path(config.data.path) == Path(data).resolve()
    run = tmp_path / "best_run"
    args = ["train", "--config", str(out / "best_config.yaml"), "--set", "training.epochs=1"]
    assert main([*args, "--out", str(run), "--quiet"]) == 0
    assert (run / "model.keras").is_file()


def test_rerun_without_resume_is_refused(tmp_path, data, capsys):
    spec = write_spec(tmp_path, data, {"experiment": {"training": {"epochs": 1}}})
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--verbose", "0"]) == 2
    assert "holds an earlier sweep; pass --resume" in capsys.readouterr().err


def test_crashed_trial_recovers_from_its_checkpoint(tmp_path, data):
    """What a crash keeps: every epoch whose checkpoint was reported. The restarted trial
    continues from the newest checkpoint the sweep received, so no finished epoch is
    trained from scratch again; the report of the epoch just before the crash may be lost
    (Ray hands reports to the driver asynchronously), the others all arrive, once each."""
    import functools

    from ray import cloudpickle

    from inside_keras.sweep.runner import SweepOptions, run_sweep
    from inside_keras.sweep.spec import load_spec
    from inside_keras.training.checkpoint import read_checkpoint
    from tests.ray import faults

    cloudpickle.register_pickle_by_value(faults)  # the workers need not import `tests`
    markers = tmp_path / "markers"
    spec = load_spec(write_spec(tmp_path, data, {"scheduler": {"name": "fifo"}}))
    out = tmp_path / "out"
    crash = functools.partial(faults.CrashOnce, 2, markers)
    result = run_sweep(spec, SweepOptions(out_dir=out, verbose=0), trial_callbacks=[crash])
    rows = _trials(out)
    assert len(rows) == 2 and all(row["status"] == "TERMINATED" for row in rows)
    assert all(row["epochs"] == "3" for row in rows) and result.best_config is not None
    trial_ids = sorted(row["trial_id"] for row in rows)
    assert sorted(p.stem for p in markers.glob("*.crashed")) == trial_ids
    for trial_id in trial_ids:
        # Restarted from the epoch-1 or the epoch-2 checkpoint, never from scratch.
        assert (markers / f"{trial_id}.restarted").read_text() in ("2", "3")
    for trial_dir in _trial_dirs(out):
        reported = _reported_epochs(trial_dir)
        assert reported in ([1, 2, 3], [1, 3]), reported
        # The trial's checkpoints are the package's own format, as `train --resume` reads.
        newest = sorted(trial_dir.glob("checkpoint_*"))[-1]
        model, state = read_checkpoint(newest)
        assert state.epoch == 3 and state.finished and model.optimizer.iterations > 0


def test_a_failure_that_would_recur_is_not_retried(tmp_path, data):
    import functools

    from ray import cloudpickle

    from inside_keras.sweep.runner import SweepOptions, run_sweep
    from inside_keras.sweep.spec import load_spec
    from tests.ray import faults

    cloudpickle.register_pickle_by_value(faults)
    markers = tmp_path / "markers"
    spec = load_spec(write_spec(tmp_path, data, {"max_failures": 2}))
    diverge = functools.partial(faults.DivergeAfterFirstEpoch, markers)
    result = run_sweep(spec, SweepOptions(out_dir=tmp_path / "out", verbose=0), [diverge])
    rows = _trials(tmp_path / "out")
    assert len(rows) == 2 and result.best_config is None
    assert all(row["status"] == "ERROR" and "loss became NaN" in row["error"] for row in rows)
    starts = sorted(markers.glob("*.starts"))
    assert len(starts) == 2 and all(path.read_text() == "start\n" for path in starts)
    assert not (tmp_path / "out" / "best_config.yaml").exists()


@pytest.fixture
def stale_ray_record():
    """A `RAY_TMPDIR` whose `ray/ray_current_cluster` names a cluster that has gone, as a
    stopped `ray start` may leave in /tmp/ray: `ray.init()` without an address would try
    to attach to it."""
    root = Path(tempfile.mkdtemp(prefix="ik-ray-"))  # short: Ray's socket paths
    (root / "ray").mkdir()
    (root / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{free_ports(1)[0]}")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_killed_sweep_resumes_without_rerunning_finished_trials(tmp_path, data, stale_ray_record):
    spec = write_spec(
        tmp_path,
        data,
        {"search": {"num_samples": 3}, "scheduler": {"name": "fifo"}},  # 6 trials
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "inside_keras", "sweep", str(spec), "--out", str(out)]
    env = dict(os.environ, TUNE_GLOBAL_CHECKPOINT_S="1", RAY_TMPDIR=str(stale_ray_record))
    env.pop("RAY_ADDRESS", None)
    log = open(tmp_path / "first.log", "w")  # noqa: SIM115 - closed below
    first = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    deadline = time.monotonic() + 300
    finished = []
    while not finished and time.monotonic() < deadline and first.poll() is None:
        time.sleep(1)
        finished = [
            d
            for d in _trial_dirs(out)
            if (d / "result.json").is_file() and _reported_epochs(d)[-1:] == [3]
        ]
    assert finished, (tmp_path / "first.log").read_text()[-2000:]
    time.sleep(4)  # Tune saves the experiment state every second (TUNE_GLOBAL_CHECKPOINT_S)
    before = {d.name: (d / "result.json").read_text() for d in finished}
    kill_session(first.pid)  # the driver and the local Ray it started
    first.wait()
    log.close()
    assert not (out / "trials.csv").exists()  # it really stopped before the end

    resumed = subprocess.run(
        [*command, "--resume"], env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for printed in ((tmp_path / "first.log").read_text(), resumed.stdout):  # not the stale one
        assert "starting a local Ray for this sweep" in printed
    rows = _trials(out)
    assert len(rows) == 6 and len({row["trial_id"] for row in rows}) == 6
    assert all(row["status"] == "TERMINATED" and row["epochs"] == "3" for row in rows)
    for name, results in before.items():  # finished trials were not run again
        assert (out / "ray_results" / "sweep" / name / "result.json").read_text() == results


def test_cluster_launcher_config_is_valid_for_ray_up():
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = yaml.safe_load((Path(__file__).parents[2] / "search" / "cluster.yaml").read_text())
    validate_config(prepare_config(config))  # the schema `ray up` checks
    workers = config["available_node_types"]["gpu_worker"]
    assert workers["min_workers"] >= 1
    assert any("KERAS_BACKEND" in command for command in config["worker_start_ray_commands"])


def test_optuna_search(tmp_path, data):
    space = {
        "model.placement": {"choice": ["bottleneck", "all"]},
        "model.conditioning_options.sigma_penalty": {"loguniform": [1.0e-4, 1.0e-2]},
        "model.conditioning_options.kernel": {"choice": ["gaussian", "laplace"]},
    }
    changes = {
        "search": {"algorithm": "optuna", "num_samples": 3},
        "experiment": {"training": {"epochs": 1}},
    }
    spec = write_spec(tmp_path, data, changes, spec=dict(SMALL_SPEC, space=space))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--verbose", "0"]) == 0
    rows = _trials(out)
    assert len(rows) == 3 and all(row["status"] == "TERMINATED" for row in rows)
    assert len({row["model.conditioning_options.sigma_penalty"] for row in rows}) == 3
