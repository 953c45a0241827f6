"""The tiny dataset every sweep test trains on."""

import pytest

from tests.runs import tiny_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("sweep_data") / "data.npz", n=64)
