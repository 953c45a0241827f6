"""Prepared files made once and reused (`inside_keras.data.ready`)."""

import numpy as np
import pytest

from inside_keras.config import DataConfig, GenerateConfig
from inside_keras.data.prepared import load_prepared
from inside_keras.data.ready import acdc_source, ensure_acdc, ensure_clevr_seg, prepared_file
from inside_keras.errors import InputError


def test_clevr_seg_is_generated_and_prepared_once_per_setting(tmp_path, capsys):
    generate = GenerateConfig(images=12, size=32, seed=3)
    prepared = ensure_clevr_seg(tmp_path, generate, workers=1)
    arrays = load_prepared(prepared)
    assert arrays["x"].shape == (12, 32, 32, 3)
    assert arrays["z"].shape == (12, 4)  # coordinates: one-hot over the four quadrants
    assert "generating 12 synthetic CLEVR-Seg images" in capsys.readouterr().out
    stamp = prepared.stat().st_mtime_ns
    assert ensure_clevr_seg(tmp_path, generate, workers=1) == prepared
    assert prepared.stat().st_mtime_ns == stamp
    assert capsys.readouterr().out == ""
    bigger = ensure_clevr_seg(tmp_path, GenerateConfig(images=12, size=48, seed=3), workers=1)
    assert bigger != prepared and load_prepared(bigger)["x"].shape[1:3] == (48, 48)
    reseeded = ensure_clevr_seg(tmp_path, GenerateConfig(images=12, size=32, seed=4), workers=1)
    assert reseeded != prepared
    assert not np.array_equal(load_prepared(reseeded)["x"], arrays["x"])


def test_an_interrupted_generation_is_rebuilt_not_reused(tmp_path):
    generate = GenerateConfig(images=6, size=32)
    partial = tmp_path / "synthetic_32px_6_seed0.partial"
    (partial / "images").mkdir(parents=True)  # what a killed generation leaves
    (partial / "images" / "stale.png").write_bytes(b"not a png")
    arrays = load_prepared(ensure_clevr_seg(tmp_path, generate, workers=1, verbose=False))
    assert len(arrays["x"]) == 6
    assert not partial.exists()


def test_generated_clevr_seg_needs_its_minimum_size(tmp_path):
    with pytest.raises(InputError, match=r"^data.generate.size: must be at least 32"):
        ensure_clevr_seg(tmp_path, GenerateConfig(images=4, size=16), workers=1)


def test_acdc_phantoms_are_generated_once_and_prepared_per_setting(tmp_path):
    generate = GenerateConfig(
        dataset="acdc", patients=4, size=32, spacing=5.0, val_fraction=0.25, test_fraction=0.25
    )
    source = acdc_source(tmp_path, generate, verbose=False)
    assert sorted(p.name for p in (source / "training").iterdir()) == [
        f"patient{i:03d}" for i in range(1, 5)
    ]
    assert acdc_source(tmp_path, generate, verbose=False) == source
    assert not list(tmp_path.glob("*.partial"))
    prepared = ensure_acdc(tmp_path, generate, source, verbose=False)
    arrays = load_prepared(prepared)
    assert arrays["x"].shape[1:] == (32, 32, 1)
    assert arrays["z"].shape[1] == 3  # ED, ES, slice position
    assert set(np.unique(arrays["y"])) <= {0, 1, 2, 3}
    coarser = GenerateConfig(dataset="acdc", patients=4, size=32, spacing=6.0)
    assert ensure_acdc(tmp_path, coarser, source, False) != prepared


def test_acdc_source_checks_a_given_folder(tmp_path):
    generate = GenerateConfig(dataset="acdc", source=str(tmp_path / "empty"))
    with pytest.raises(InputError, match="training"):
        acdc_source(tmp_path, generate)


def test_prepared_file_is_the_path_or_generated_data(tmp_path):
    assert prepared_file(DataConfig(path="x.npz"), tmp_path).name == "x.npz"
    generated = prepared_file(
        DataConfig(generate=GenerateConfig(images=6, size=32)), tmp_path, workers=1, verbose=False
    )
    assert generated.parent == tmp_path / "clevr-seg" and generated.is_file()
    with pytest.raises(InputError, match="^data: give path"):
        prepared_file(DataConfig(), tmp_path)
