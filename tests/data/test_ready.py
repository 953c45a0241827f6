"""Prepared files made once and reused (`inside_keras.data.ready`)."""

import numpy as np
import pytest

from inside_keras.data.prepared import load_prepared
from inside_keras.data.ready import (
    ACDCData,
    ClevrSegData,
    acdc_source,
    ensure_acdc,
    ensure_clevr_seg,
)
from inside_keras.errors import InputError


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ClevrSegData(images=0, size=32), "images"),
        (lambda: ClevrSegData(images=4, size=16), "size"),
        (lambda: ACDCData(patients=0, size=32), "patients"),
        (lambda: ACDCData(patients=4, size=32, spacing=0.0), "spacing"),
    ],
)
def test_settings_name_the_bad_field(build, field):
    with pytest.raises(InputError, match=f"^{field}: must be (positive|at least 32)"):
        build()


def test_clevr_seg_is_generated_and_prepared_once(tmp_path, capsys):
    data = ClevrSegData(images=12, size=32, seed=3)
    prepared = ensure_clevr_seg(tmp_path, data, workers=1)
    arrays = load_prepared(prepared)
    assert arrays["x"].shape == (12, 32, 32, 3)
    assert arrays["z"].shape == (12, 4)  # coordinates: one-hot over the four quadrants
    assert "generating 12 synthetic CLEVR-Seg images" in capsys.readouterr().out
    stamp = prepared.stat().st_mtime_ns
    assert ensure_clevr_seg(tmp_path, data, workers=1) == prepared
    assert prepared.stat().st_mtime_ns == stamp
    assert capsys.readouterr().out == ""
    other = ensure_clevr_seg(tmp_path, ClevrSegData(images=12, size=48, seed=3), workers=1)
    assert other != prepared and load_prepared(other)["x"].shape[1:3] == (48, 48)


def test_acdc_phantoms_are_generated_once_and_prepared_per_setting(tmp_path):
    data = ACDCData(patients=4, size=32, spacing=5.0, val_fraction=0.25, test_fraction=0.25)
    source = acdc_source(tmp_path, data, verbose=False)
    assert sorted(p.name for p in (source / "training").iterdir()) == [
        f"patient{i:03d}" for i in range(1, 5)
    ]
    assert acdc_source(tmp_path, data, verbose=False) == source
    assert not list(tmp_path.glob("*.partial"))
    prepared = ensure_acdc(tmp_path, data, source, verbose=False)
    arrays = load_prepared(prepared)
    assert arrays["x"].shape[1:] == (32, 32, 1)
    assert arrays["z"].shape[1] == 3  # ED, ES, slice position
    assert set(np.unique(arrays["y"])) <= {0, 1, 2, 3}
    coarser = ensure_acdc(tmp_path, ACDCData(patients=4, size=32, spacing=6.0), source, False)
    assert coarser != prepared


def test_acdc_source_checks_a_given_folder(tmp_path):
    with pytest.raises(InputError, match="training"):
        acdc_source(tmp_path, ACDCData(patients=4, size=32), source=tmp_path / "empty")
