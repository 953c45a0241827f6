"""Experiment config: YAML round trip, unknown keys, types, --set overrides."""

import pytest

from inside_keras.config import ExperimentConfig, load_config, save_config
from inside_keras.errors import InputError


def test_defaults_are_the_paper_training_settings():
    config = load_config()
    assert config == ExperimentConfig()
    assert (config.training.patience, config.training.min_delta) == (25, 1e-4)
    assert config.training.learning_rate == 1e-3


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "model:\n  conditioning: film\n  conditioning_options: {hidden_units: 4}\n"
        "training:\n  epochs: 3\n  learning_rate: 1\n"
    )
    config = load_config(path)
    assert config.model.conditioning == "film"
    assert config.model.conditioning_options == {"hidden_units": 4}
    assert config.training.learning_rate == 1.0 and isinstance(config.training.learning_rate, float)
    save_config(config, tmp_path / "saved.yaml")
    assert load_config(tmp_path / "saved.yaml") == config


def test_unknown_key_lists_known_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("training:\n  epoch: 3\n")
    with pytest.raises(InputError, match=r"unknown key\(s\) \['epoch'\]; known keys: .*'epochs'"):
        load_config(path)


def test_unknown_section(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("trainer: {}\n")
    with pytest.raises(InputError, match=r"'trainer'.*known keys: \['data', 'model', 'output'"):
        load_config(path)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("training:\n  epochs: ten\n", r"training.epochs: expected int, got 'ten'"),
        ("training:\n  epochs: true\n", r"training.epochs: expected int, got True"),
        ("model:\n  norm: 3\n", r"model.norm: expected str \| None, got 3"),
        ("data: [1]\n", r"data: expected a mapping"),
    ],
)
def test_wrong_types(tmp_path, text, pattern):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=pattern):
        load_config(path)


def test_overrides():
    config = load_config(
        overrides=["training.epochs=2", "model.norm=null", "model.placement=[enc0]"]
    )
    assert config.training.epochs == 2
    assert config.model.norm is None
    assert config.model.placement == ["enc0"]


@pytest.mark.parametrize(
    "override, pattern",
    [
        ("training.epoch=2", r"no key 'epoch' in training; known keys: .*'epochs'"),
        ("training=2", r"'training' is a section, not a key"),
        ("training.epochs", r"expected section.key=value"),
        ("nothing.epochs=1", r"no key 'nothing' in top level"),
    ],
)
def test_bad_overrides(override, pattern):
    with pytest.raises(InputError, match=pattern):
        load_config(overrides=[override])


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(bad)


def test_shipped_configs_load():
    from pathlib import Path

    configs = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
    assert len(configs) == 5
    for path in configs:
        config = load_config(path)
        assert config.output.dir.startswith("runs/")
