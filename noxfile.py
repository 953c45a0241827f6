"""Test matrix: the same test suite on each Keras backend, each in its own venv.

nox                         # everything: tests and sweeps on each backend; interop; lint
nox -s "tests(backend='jax')"
nox -s "sweeps(backend='jax')"
nox -R                      # re-use existing venvs, skip installs (fast re-runs)
"""

import nox

nox.options.default_venv_backend = "venv"

#: What each backend session installs besides the package. CPU builds for tests:
#: torch 2.13.0 is the CPU wheel this project pins (another version pulls CUDA).
BACKEND_PACKAGES = {
    "tensorflow": ["tensorflow-cpu"],
    "torch": ["torch==2.13.0"],
    "jax": ["jax[cpu]"],
}


def _pytest(session, backend, extras, default_args):
    """Install `backend` and the package with `extras`, run pytest with KERAS_BACKEND set."""
    session.install(*BACKEND_PACKAGES[backend])
    session.install("-e", f".[{extras}]")
    session.run(
        "pytest",
        *(session.posargs or default_args),
        env={"KERAS_BACKEND": backend, "PYTHONHASHSEED": "0"},
    )


@nox.session
@nox.parametrize("backend", list(BACKEND_PACKAGES))
def tests(session, backend):
    """Run pytest with KERAS_BACKEND set, in a venv holding only that backend (no Ray)."""
    _pytest(session, backend, "dev", ["tests", "--ignore=tests/ray"])


#: Ray tests each backend runs: all of them on PyTorch (two-node cluster, kill and
#: resume, crash recovery, cluster config, Optuna), whose eager trials start training
#: at once; on JAX and TensorFlow, which compile each trial's train step with XLA, the
#: local sweep and the crash recovery, which exercise the Tune callback and the
#: `.keras` checkpoint restore.
SWEEP_TESTS = {
    "jax": ["-k", "local_sweep or crashed"],
    "torch": [],
    "tensorflow": ["-k", "local_sweep or crashed"],
}


@nox.session
@nox.parametrize("backend", list(BACKEND_PACKAGES))
def sweeps(session, backend):
    """Ray Tune sweeps (tests/ray) on a local Ray and a two-node Ray on 127.0.0.1."""
    _pytest(session, backend, "dev,tune", ["tests/ray", *SWEEP_TESTS[backend]])


@nox.session
def interop(session):
    """Save a model under each backend and load it under every other, live.

    Regenerates the `.keras` fixtures into a temporary folder with each backend
    in turn, then runs the serialisation tests against them under each backend.
    """
    for packages in BACKEND_PACKAGES.values():
        session.install(*packages)
    session.install("-e", ".[dev]")
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


@nox.session
def lint(session):
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
