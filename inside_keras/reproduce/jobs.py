"""Training the compared methods in parallel `inside-keras train` subprocesses.

`train_methods(configs, out_dir, jobs)` saves each method's `ExperimentConfig` to
`<out_dir>/logs/<method>.yaml` and runs `python -m inside_keras train` on it, `jobs`
processes at a time (a `concurrent.futures` thread pool, one thread waiting on each
process), each limited to an equal share of the CPU threads. A finished run of the
same config is reused and an unfinished one resumed (`train --resume` refuses a run
of another config). On a terminal, a progress bar per method shows its epochs and
best validation loss, read from the run's checkpoint state. The jobs import the same
`inside_keras` as the calling process (a source checkout is put first on their
`PYTHONPATH`).
"""

import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import inside_keras
from inside_keras.runs.atomic import write_json
from inside_keras.runs.threads import thread_limits

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
    """Environment of one training job limited to `threads` CPU threads on any backend.

    On a GPU, JAX would take 75 % of the device's memory in each job at start (the
    second job would run out of memory); the jobs allocate as they need instead
    (`XLA_PYTHON_CLIENT_PREALLOCATE=false` unless set).
    """
    env = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", **os.environ}
    env.update(thread_limits(threads, env.get("XLA_FLAGS")))
    checkout = _source_checkout()
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH")]))
    return env


class _Jobs:
    """The running `inside-keras train` processes, so that a failure can stop the others."""

    def __init__(self, env):
        self.env, self.processes, self.stopped = env, {}, False

    def train(self, method, config_path, resume, log_path, progress):
        """Run one job to its end; returns `(exit code, seconds)`."""
        command = [sys.executable, "-m", "inside_keras", "train", "--config", str(config_path)]
        command += ["--quiet"] + (["--resume"] if resume else [])
        if self.stopped:
            return None, 0.0
        progress.started(method, log_path)
        start = time.perf_counter()
        with open(log_path, "a") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env)
            self.processes[method] = process
            code = process.wait()
        return code, time.perf_counter() - start

    def stop(self):
        self.stopped = True
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()


class _MethodProgress:
    """Per-method bars (epoch x/y, best monitored value) on a terminal; start/end lines
    elsewhere."""

    def __init__(self, configs, verbose):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.configs, self.verbose = configs, verbose
        console = Console(stderr=True)
        self.live = verbose and console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epochs  best {task.fields[monitor]} {task.fields[best]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not self.live,
        )
        self.tasks = {
            method: self.progress.add_task(
                method,
                total=config.training.epochs,
                best="-",
                monitor=config.training.monitor,
                start=False,
            )
            for method, config in configs.items()
        }

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *error):
        self.refresh()
        return self.progress.__exit__(*error)

    def started(self, method, log_path):
        self.progress.start_task(self.tasks[method])
        if self.verbose and not self.live:
            print(f"training {method} (log: {log_path})", flush=True)

    def finished(self, method, seconds):
        if self.verbose and not self.live:
            print(f"{method} trained in {seconds:.0f} s", flush=True)

    def refresh(self):
        from inside_keras.errors import InputError
        from inside_keras.runs.files import CHECKPOINT_DIR
        from inside_keras.training.checkpoint import read_state

        for method, config in self.configs.items():
            try:
                state = read_state(Path(config.output.dir) / CHECKPOINT_DIR)
            except InputError:  # being written by the job
                continue
            if state is not None:
                total = state.epoch if state.finished else config.training.epochs
                self.progress.update(
                    self.tasks[method], completed=state.epoch, total=total, best=f"{state.best:.4f}"
                )


def train_methods(configs, out_dir, jobs, verbose=True):
    """Train each method's config in `inside-keras train` subprocesses, `jobs` at a time.

    Each job gets an equal share of the CPUs (XLA on CPU barely uses a second core for
    these small networks, so two single-threaded jobs finish about twice as fast as
    one after the other). Logs go to `<out_dir>/logs/<method>.log`; the training time
    of each run is kept in its folder (`train_seconds.json`).

    Args:
        configs: `{method: ExperimentConfig}`; a name may hold a `/` (`fold_0/inside`):
            its config and log then lie in a subfolder of `logs/`.
        out_dir: the reproduce output folder.
        jobs: processes at once.
        verbose: show progress.

    Returns:
        `{method: seconds}` training time of each run (of its last job).

    Raises:
        InputError: a method's folder holds a run of another config.
        RuntimeError: a job failed (the message ends with its log's last lines).
    """
    import json

    from inside_keras.config import save_config
    from inside_keras.runs.files import CONFIG_FILE
    from inside_keras.training import check_same_config, run_is_finished

    for config in configs.values():  # an earlier run is reused only for the same config
        if (Path(config.output.dir) / CONFIG_FILE).is_file():
            check_same_config(config.output.dir, config)
    logs = Path(out_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    runner = _Jobs(job_environment(max(1, (os.cpu_count() or 1) // jobs)))
    pending = [m for m in configs if not run_is_finished(configs[m].output.dir)]
    with (
        _MethodProgress(configs, verbose) as progress,
        concurrent.futures.ThreadPoolExecutor(jobs) as pool,
    ):
        futures = {}
        for method in pending:
            config_path, log_path = logs / f"{method}.yaml", logs / f"{method}.log"
            config_path.parent.mkdir(parents=True, exist_ok=True)  # fold_<k>/<method>
            save_config(configs[method], config_path)
            resume = (Path(configs[method].output.dir) / CONFIG_FILE).is_file()
            job = (method, config_path, resume, log_path, progress)
            futures[pool.submit(runner.train, *job)] = method
        waiting = set(futures)
        while waiting:
            try:
                done, waiting = concurrent.futures.wait(waiting, timeout=1.0)
            except BaseException:  # Ctrl-C: stop the jobs before leaving
                runner.stop()
                raise
            progress.refresh()
            for future in done:
                method = futures[future]
                code, seconds = future.result()
                if code != 0:
                    runner.stop()
                    tail = " | ".join((logs / f"{method}.log").read_text().splitlines()[-3:])
                    raise RuntimeError(f"training {method} failed (exit {code}): {tail}")
                write_json(Path(configs[method].output.dir) / TIMING_FILE, {"seconds": seconds})
                progress.finished(method, seconds)
    return {
        method: json.loads((Path(c.output.dir) / TIMING_FILE).read_text())["seconds"]
        for method, c in configs.items()
    }
