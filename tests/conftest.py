"""Shared test setup: the backend comes from KERAS_BACKEND (set by nox)."""

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"
