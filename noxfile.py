"""Test matrix: the same test suite on each Keras backend, each in its own venv.

nox                         # everything: tests (Ray sweeps included) per backend; interop;
                            # minimal (`pip install .` without extras trains a U-Net); lint;
                            # docs
nox -s "tests(backend='jax')"
nox -s cli                  # the command-line contracts and data tests, once (not per backend)
nox -s "tests(backend='jax')" -- tests/ray -k local_sweep   # pytest arguments after --
nox -s docs                 # the documentation site (mkdocs build --strict)
nox -R                      # re-use existing venvs, skip installs (fast re-runs)
"""

import os

import nox

nox.options.default_venv_backend = "venv"

#: What each backend session installs besides the package. CPU builds for tests:
#: torch 2.13.0 is the CPU wheel this project pins (another version pulls CUDA).
BACKEND_PACKAGES = {
    "tensorflow": ["tensorflow-cpu"],
    "torch": ["torch==2.13.0"],
    "jax": ["jax[cpu]"],
}

#: Ray tests each backend runs: all of them on PyTorch (local sweep, a `ray start` head
#: and worker with token authentication, declared GPUs, kill and resume, crash recovery,
#: no retry of recurring failures, cluster config, Optuna), whose eager trials start
#: training at once. The sweep code does not depend on the backend, and what does (the
#: checkpoint a restored trial reads) is the one `train --resume` reads, tested on every
#: backend in tests/test_training.py; JAX and TensorFlow, which compile each trial's
#: train step, would spend minutes per trial.
SWEEP_TESTS = {"jax": None, "torch": [], "tensorflow": None}


#: Tests of the command line's contracts (bad input, the user's files, kill and rerun,
#: reproduce), of the data commands and of the benchmark harness: they do not depend on
#: the backend, so the `cli` session runs them once, on PyTorch (eager: no compile
#: time), and `tests` skips them. So is docs/pytorch_example.py's test, which always
#: runs on PyTorch and needs MONAI (installed by `cli` only).
CLI_TESTS = [
    "tests/cli",
    "tests/data",
    "tests/test_config.py",
    "tests/test_limits.py",
    "tests/test_progress.py",
    "tests/test_gpu_check.py",
    "tests/test_benchmark.py",
    "tests/sweep/test_spec.py",
    "tests/evaluation/test_masks.py",
    "tests/evaluation/test_acdc_scores.py",
    "tests/evaluation/test_acdc.py",
    "tests/test_reproduce.py",
    "tests/test_reproduce_acdc.py",
    "tests/test_reproduce_acdc_folds.py",
    "tests/test_mapped_memory.py",
    "tests/test_pytorch_example.py",
]


#: pytest in worker processes, each running whole test files (module fixtures, such as a
#: trained model shared by a file's tests, are built once): most tests wait on
#: subprocesses or compile on one core. Two on a 2-core machine, up to four where there
#: are more cores (each worker and its subprocesses hold a backend: about 2 GB).
PARALLEL = ["-n", str(min(4, max(2, os.cpu_count() or 2))), "--dist", "loadfile"]


@nox.session
@nox.parametrize("backend", list(BACKEND_PACKAGES))
def tests(session, backend):
    """pytest with KERAS_BACKEND set, in a venv holding only that backend and the `tune`
    extra: the suite, then the Ray Tune sweeps (tests/ray) on a local Ray and on
    clusters of `ray start` nodes on this machine. That the package works without Ray
    is a test of its own (tests/sweep/test_spec.py)."""
    session.install(*BACKEND_PACKAGES[backend])
    session.install("-e", ".[cli,dev,tune]")
    # TensorBoard's own reader of `train`'s event files (tests/test_tensorboard_logs.py);
    # it needs no TensorFlow, and TensorFlow's session has it already.
    session.install("tensorboard")
    env = {"KERAS_BACKEND": backend, "PYTHONHASHSEED": "0"}
    if session.posargs:
        session.run("pytest", *session.posargs, env=env)
        return
    ignored = [f"--ignore={path}" for path in ["tests/ray", *CLI_TESTS]]
    session.run("pytest", "tests", *ignored, *PARALLEL, "--durations=15", env=env)
    if SWEEP_TESTS[backend] is not None:
        session.run("pytest", "tests/ray", *SWEEP_TESTS[backend], env=env)


@nox.session
def cli(session):
    """The backend-independent tests (`CLI_TESTS`): every command run as the installed
    `inside-keras` in subprocesses over bad inputs, a user's folder, killed runs, and
    watched (TensorBoard logs, `--track mlflow`); and the PyTorch example
    (docs/pytorch_example.py), with MONAI."""
    session.install(*BACKEND_PACKAGES["torch"])
    session.install("-e", ".[cli,dev,tune,track]")
    session.install("tensorboard")  # TensorBoard's own reader of the event files written
    session.install("medpy")  # the surface distances' independent reference
    # docs/pytorch_example.py's loss, loader and transforms; never a package dependency.
    # After torch==2.13.0, which it accepts, so pip keeps that CPU build.
    session.install("monai")
    env = {"KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0"}
    session.run("pytest", *(session.posargs or [*CLI_TESTS, *PARALLEL, "--durations=15"]), env=env)


@nox.session
def interop(session):
    """What needs several backends in one venv: a model saved under each backend and
    loaded under every other, live; and the device check's quick run on this CPU.

    Regenerates the `.keras` fixtures into a temporary folder with each backend
    in turn, then runs the serialisation tests against them under each backend; then
    `benchmarks/gpu_check.sh --quick` (JAX and PyTorch, about five minutes), which
    fails if any of its steps fails.
    """
    for packages in BACKEND_PACKAGES.values():
        session.install(*packages)
    session.install("-e", ".[cli,dev]")
    fixture_dir = session.create_tmp()
    for backend in BACKEND_PACKAGES:
        session.run(
            "python",
            "tests/fixtures/make_fixtures.py",
            fixture_dir,
            env={"KERAS_BACKEND": backend},
        )
    for backend in BACKEND_PACKAGES:
        session.run(
            "pytest",
            "tests/layers/test_serialization.py",
            env={"KERAS_BACKEND": backend, "INSIDE_KERAS_FIXTURES": fixture_dir},
        )
    check = session.create_tmp() + "/gpu_check"
    session.run("bash", "benchmarks/gpu_check.sh", "--quick", "--out", check, external=True)


@nox.session
def lint(session):
    """ruff check and ruff format --check; then what git tracks: no file over 1 MB outside
    docs/figures/ and benchmarks/gpu/, no wheel, archive or compiled object
    (tests/check_tracked_files.py, one line per offending file)."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "tests/check_tracked_files.py")


#: What the documentation site needs (mkdocs.yml: MkDocs 1.6's generated files and anchor
#: checks, Material, mkdocstrings' Python handler and its griffe extensions; ruff lays out
#: the API pages' signatures).
DOCS_PACKAGES = ["mkdocs>=1.6", "mkdocs-material", "mkdocstrings-python>=2", "ruff"]


@nox.session
def docs(session):
    """The documentation site, `mkdocs build --strict` into a temporary folder: a broken
    link or anchor, a link to a file git does not track, an API page that cannot be
    generated or a docstring that does not parse fails the session.

    The API pages are generated from the package's source, read (by griffe), not
    imported: the venv holds neither the package nor Keras, so no backend is needed.
    """
    session.install(*DOCS_PACKAGES)
    site = session.create_tmp() + "/site"
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--clean",
        "--site-dir",
        site,
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session
def minimal(session):
    """`pip install .` without extras, plus JAX: a U-Net with INSIDE builds and trains one
    epoch (tests/minimal_install.py), so the layers and models need Keras and NumPy only."""
    session.install(".", *BACKEND_PACKAGES["jax"])
    session.run(
        "python",
        "tests/minimal_install.py",
        env={"KERAS_BACKEND": "jax", "PYTHONPATH": ""},
    )
