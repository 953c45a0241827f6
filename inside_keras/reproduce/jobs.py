"""Training the compared methods in parallel `inside-keras train` subprocesses.

`train_methods(configs, out_dir, jobs)` saves each method's `ExperimentConfig` to
`<out_dir>/logs/<method>.yaml` and runs `python -m inside_keras train` on it, `jobs`
processes at a time, each limited to an equal share of the CPU threads. Finished runs
are reused and unfinished ones resumed. The jobs import the same `inside_keras` as the
calling process (a source checkout is put first on their `PYTHONPATH`).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import inside_keras
from inside_keras.threads import thread_limits

#: Where each run's training time is kept, inside its output folder.
TIMING_FILE = "train_seconds.json"


def default_jobs(methods):
    """Training jobs at once: one per CPU, at most one per method."""
    return max(1, min(methods, os.cpu_count() or 1))


def _source_checkout():
    """The folder holding this `inside_keras` when it runs from a source checkout, else None."""
    root = Path(inside_keras.__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def job_environment(threads):
    """Environment of one training job limited to `threads` CPU threads on any backend."""
    env = dict(os.environ)
    env.update(thread_limits(threads, env.get("XLA_FLAGS")))
    checkout = _source_checkout()
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH")]))
    return env


def _command(config_path, resume):
    command = [sys.executable, "-m", "inside_keras", "train", "--config", str(config_path)]
    return command + ["--quiet"] + (["--resume"] if resume else [])


def train_methods(configs, out_dir, jobs, verbose=True):
    """Train each method's config in `inside-keras train` subprocesses, `jobs` at a time.

    Finished runs are reused and unfinished ones resumed. Each job gets an equal share
    of the CPUs (XLA on CPU barely uses a second core for these small networks, so two
    single-threaded jobs finish about twice as fast as one after the other). Logs go to
    `<out_dir>/logs/<method>.log`; the training time of each run is kept in its folder
    (`train_seconds.json`).

    Args:
        configs: `{method: ExperimentConfig}`.
        out_dir: the reproduce output folder.
        jobs: processes at once.
        verbose: print when each job starts and ends.

    Returns:
        `{method: seconds}` training time of each run.

    Raises:
        RuntimeError: a job failed (the message ends with its log's last lines).
    """
    from inside_keras.config import save_config
    from inside_keras.training import RunState, run_state

    logs = Path(out_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = job_environment(max(1, (os.cpu_count() or 1) // jobs))
    pending = [m for m in configs if run_state(configs[m].output.dir) is not RunState.FINISHED]
    running = {}
    while pending or running:
        while pending and len(running) < jobs:
            method = pending.pop(0)
            config_path = logs / f"{method}.yaml"
            save_config(configs[method], config_path)
            resume = run_state(configs[method].output.dir) is RunState.UNFINISHED
            log = open(logs / f"{method}.log", "a")  # noqa: SIM115 - closed when the job ends
            process = subprocess.Popen(
                _command(config_path, resume), stdout=log, stderr=subprocess.STDOUT, env=env
            )
            running[method] = (process, log, time.perf_counter())
            if verbose:
                print(f"training {method} (log: {logs / f'{method}.log'})", flush=True)
        time.sleep(0.5)
        for method, (process, log, start) in list(running.items()):
            if process.poll() is None:
                continue
            log.close()
            del running[method]
            if process.returncode != 0:
                for other, _, _ in running.values():
                    other.kill()
                tail = " | ".join((logs / f"{method}.log").read_text().splitlines()[-3:])
                raise RuntimeError(f"training {method} failed (exit {process.returncode}): {tail}")
            seconds = time.perf_counter() - start
            timing = Path(configs[method].output.dir) / TIMING_FILE
            timing.write_text(json.dumps({"seconds": seconds}))
            if verbose:
                print(f"{method} trained in {seconds:.0f} s", flush=True)
    return {
        method: json.loads((Path(c.output.dir) / TIMING_FILE).read_text())["seconds"]
        for method, c in configs.items()
    }
