"""Test matrix: the same test suite on each Keras backend, each in its own venv.

nox                         # everything: tests on tensorflow, torch, jax; interop; lint
nox -s "tests(backend='jax')"
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


@nox.session
@nox.parametrize("backend", list(BACKEND_PACKAGES))
def tests(session, backend):
    """Run pytest with KERAS_BACKEND set, in a venv holding only that backend."""
    session.install(*BACKEND_PACKAGES[backend])
    session.install("-e", ".[dev]")
    session.run(
        "pytest",
        *(session.posargs or ["tests"]),
        env={"KERAS_BACKEND": backend, "PYTHONHASHSEED": "0"},
    )


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
