"""Running a sweep on Ray Tune, locally or on a Ray cluster, and resuming one.

`run_sweep(spec, options)`:

1. prepares the data (generating it first if the spec says so) and loads it once;
2. connects to Ray (`options.address`, else `RAY_ADDRESS`, else a Ray of its own started
   on this machine: `address="local"`, never a cluster `ray start` left recorded here;
   token authentication as `inside_keras.sweep.connection` says) with a job
   `runtime_env` carrying the Keras backend, the GPU memory settings (JAX
   without preallocation, TensorFlow with memory growth, so trials can share a GPU)
   and per-trial thread limits to every worker;
3. checks the resources per trial against the cluster's nodes;
4. runs (or, with `options.resume`, restores and continues) a `ray.tune.Tuner` over
   `train_trial`, with the arrays in the object store (`tune.with_parameters`), the
   resources (`tune.with_resources`), the scheduler, the search algorithm and
   `FailureConfig(max_failures)`; results and checkpoints go to `options.storage`;
5. writes `trials.csv`, `best_config.yaml` and `sweep.png` into `options.out_dir`;
   the trials' metrics go to `options.out_dir/tensorboard/` as they arrive (and to
   MLflow with `options.track_uri`, `inside_keras.sweep.watch`).
"""

import dataclasses
import math
from pathlib import Path

from inside_keras.errors import InputError
from inside_keras.runs.threads import thread_limits
from inside_keras.sweep import report
from inside_keras.sweep.connection import connect_ray, ray_address

#: Name of the Tune experiment folder under the storage path.
EXPERIMENT_NAME = "sweep"
#: The fingerprint of the spec and data a sweep started with, in its output folder.
FINGERPRINT_FILE = "sweep_fingerprint.json"


@dataclasses.dataclass(frozen=True)
class SweepOptions:
    """How and where a sweep runs (the command-line options besides the spec).

    Args:
        out_dir: folder for the outputs (and generated data).
        storage: Tune storage path (a shared folder or `s3://`, `gs://` URI for a
            multi-node cluster); None: `<out_dir>/ray_results`.
        address: Ray cluster address (`auto`: the cluster running on this machine);
            None: `RAY_ADDRESS`, else a local Ray of the sweep's own.
        resume: continue the interrupted sweep found in the storage path.
        verbose: Tune's console output level (0 silent, 1 status, 2 trial results).
        track_uri: the MLflow store of the trials' runs (`inside_keras.sweep.watch`);
            None: no MLflow.
    """

    out_dir: Path
    storage: str | None = None
    address: str | None = None
    resume: bool = False
    verbose: int = 1
    track_uri: str | None = None

    @property
    def storage_path(self):
        """The storage path as Tune wants it (absolute folder or URI)."""
        if self.storage and "://" in self.storage:
            return self.storage
        return str(Path(self.storage or Path(self.out_dir) / "ray_results").resolve())

    @property
    def experiment_path(self):
        """Where Tune keeps this sweep's state (what `--resume` restores)."""
        return f"{self.storage_path.rstrip('/')}/{EXPERIMENT_NAME}"


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """A finished sweep.

    Args:
        rows: `report.TrialRow`s, best first.
        best_config: the best trial's `ExperimentConfig` (None if every trial failed).
        out_dir: the output folder.
    """

    rows: list
    best_config: object
    out_dir: Path


def worker_environment(backend, resources):
    """Environment variables for every Ray worker of the sweep (the job's runtime_env)."""
    env = {
        "KERAS_BACKEND": backend,
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
        **thread_limits(resources.cpus_per_trial),
    }
    return env


def check_cluster_resources(resources, nodes):
    """Raise InputError if no live node has the CPUs or GPUs one trial asks for.

    Args:
        resources: the spec's `ResourcesSpec`.
        nodes: `ray.nodes()`.
    """
    alive = [node["Resources"] for node in nodes if node.get("Alive")]
    total_gpus = sum(node.get("GPU", 0) for node in alive)
    most_gpus = max((node.get("GPU", 0) for node in alive), default=0)
    most_cpus = max((node.get("CPU", 0) for node in alive), default=0)
    if resources.gpus_per_trial > most_gpus:
        raise InputError(
            f"{resources.gpus_per_trial} GPUs per trial, but the largest node of the cluster "
            f"has {most_gpus:g} (cluster total {total_gpus:g}); use at most {most_gpus:g}",
            "resources.gpus_per_trial",
        )
    if resources.cpus_per_trial > most_cpus:
        raise InputError(
            f"{resources.cpus_per_trial} CPUs per trial, but the largest node of the cluster "
            f"has {most_cpus:g}; use at most {most_cpus:g}",
            "resources.cpus_per_trial",
        )


def param_space(space):
    """Ray Tune's `param_space` for the spec's parameters (flat dotted names)."""
    from ray import tune

    samplers = {
        "choice": lambda values: tune.choice(list(values)),
        "grid": lambda values: tune.grid_search(list(values)),
        "uniform": lambda values: tune.uniform(*values),
        "loguniform": lambda values: tune.loguniform(*values),
        "randint": lambda values: tune.randint(*values),
    }
    return {p.name: samplers[p.distribution](p.values) for p in space}


def trial_folder_name(trial):
    """Short trial folder names (`trial_<id>`) instead of Tune's parameter-laden ones."""
    return f"trial_{trial.trial_id}"


def _search_algorithm(search):
    if search.algorithm == "optuna":
        try:
            from ray.tune.search.optuna import OptunaSearch
        except ImportError:
            raise InputError(
                "optuna is not installed; pip install 'inside-keras[tune]'", "search.algorithm"
            ) from None
        return OptunaSearch(seed=search.seed)
    from ray.tune.search import BasicVariantGenerator

    return BasicVariantGenerator(random_state=search.seed)


def _scheduler(spec):
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    if spec.scheduler.name == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr="epoch",
        max_t=spec.max_epochs,
        grace_period=min(spec.scheduler.grace_period, spec.max_epochs),
        reduction_factor=spec.scheduler.reduction_factor,
    )


def _tuner(spec, options, trainable):
    from ray import tune

    from inside_keras.sweep.watch import sweep_callbacks

    if options.resume:
        if not tune.Tuner.can_restore(options.experiment_path):
            raise InputError(
                "no interrupted sweep to resume here; run without --resume", options.experiment_path
            )
        return tune.Tuner.restore(
            options.experiment_path, trainable, resume_unfinished=True, resume_errored=True
        )
    if tune.Tuner.can_restore(options.experiment_path):
        raise InputError(
            "holds an earlier sweep; pass --resume to continue it, or choose another "
            "--out or --storage",
            options.experiment_path,
        )
    return tune.Tuner(
        trainable,
        param_space=param_space(spec.space),
        tune_config=tune.TuneConfig(
            metric=spec.metric,
            mode=spec.mode,
            num_samples=spec.search.num_samples,
            search_alg=_search_algorithm(spec.search),
            scheduler=_scheduler(spec),
            max_concurrent_trials=spec.search.max_concurrent or None,
            trial_dirname_creator=trial_folder_name,
        ),
        run_config=tune.RunConfig(
            name=EXPERIMENT_NAME,
            storage_path=options.storage_path,
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            verbose=options.verbose,
            callbacks=sweep_callbacks(options.out_dir, options.track_uri),
        ),
    )


def fingerprint(spec, data_path):
    """SHA-256 of what decides a sweep's trials: the spec (its experiment, metric, mode,
    space, search, scheduler and max_failures; not the resources, which may change on a
    resume) and the prepared data file's bytes."""
    import hashlib
    import json

    decisive = dataclasses.asdict(spec)
    for key in ("resources", "source"):
        decisive.pop(key)
    digest = hashlib.sha256(json.dumps(decisive, sort_keys=True, default=str).encode())
    with open(data_path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_fingerprint(out_dir, value, resume):
    """Record `value` for a new sweep; on `resume`, refuse one that differs from the record.

    Raises:
        InputError: resuming with another spec or data than the sweep started with.
    """
    from inside_keras.runs.atomic import write_json

    path = Path(out_dir) / FINGERPRINT_FILE
    if resume and path.is_file():
        import json

        if json.loads(path.read_text(encoding="utf-8")).get("fingerprint") != value:
            raise InputError(
                "the spec or the data differ from those this sweep started with; resume "
                "with the same spec and options, or start a new sweep in another --out",
                path,
            )
        return
    write_json(path, {"fingerprint": value})


def run_sweep(spec, options, trial_callbacks=()):
    """Run (or resume) the sweep `spec`; see the module docstring.

    Args:
        spec: a validated `SweepSpec`.
        options: `SweepOptions`.
        trial_callbacks: picklable functions of no argument, each returning a Keras
            callback; every trial (and every restart of one) adds the callbacks they
            return after its own (e.g. to log or inject faults).

    Returns:
        A `SweepResult`.

    Raises:
        InputError: bad data, resources the cluster lacks, a sweep already in (or
            missing from) the storage path.
    """
    import keras

    from inside_keras.data.prepared import load_prepared
    from inside_keras.data.ready import prepared_file

    out_dir = Path(options.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = spec.experiment_config().data
    data_path = prepared_file(data, out_dir / "data", verbose=bool(options.verbose))
    arrays = load_prepared(data_path)
    value = fingerprint(spec, data_path)
    if options.resume:
        check_fingerprint(out_dir, value, resume=True)

    import ray
    from ray import tune

    from inside_keras.sweep.trainable import train_trial

    env = worker_environment(keras.backend.backend(), spec.resources)
    address, source = ray_address(options.address)
    connect_ray(address, source, {"env_vars": env}, options.verbose)
    try:
        check_cluster_resources(spec.resources, ray.nodes())
        trainable = tune.with_resources(
            tune.with_parameters(
                train_trial, arrays=arrays, spec=spec, callbacks=tuple(trial_callbacks)
            ),
            {"cpu": spec.resources.cpus_per_trial, "gpu": spec.resources.gpus_per_trial},
        )
        tuner = _tuner(spec, options, trainable)
        if not options.resume:  # a new sweep (an earlier one in the storage is refused)
            check_fingerprint(out_dir, value, resume=False)
        results = tuner.fit()
    finally:
        ray.shutdown()
    rows = report.trial_rows(results, spec)
    report.write_trials_csv(rows, spec, out_dir / report.TRIALS_FILE)
    report.plot_sweep(rows, spec, out_dir / report.FIGURE_FILE)
    usable = [row for row in rows if row.status == "TERMINATED" and not math.isnan(row.best)]
    best_config = None
    if options.resume:  # the best config of this sweep's earlier run must not outlive it
        (out_dir / report.BEST_CONFIG_FILE).unlink(missing_ok=True)
    if usable:
        best_config = report.write_best_config(
            usable[0], spec, data_path, out_dir, out_dir / report.BEST_CONFIG_FILE
        )
    return SweepResult(rows=rows, best_config=best_config, out_dir=out_dir)
