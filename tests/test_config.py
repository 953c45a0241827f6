"""Experiment config: YAML round trip, unknown keys, types, --set overrides."""

import dataclasses
import pickle

import pydantic
import pytest

from inside_keras.config import (
    DataConfig,
    ExperimentConfig,
    GenerateConfig,
    build_dataclass,
    load_config,
    read_yaml_mapping,
    save_config,
)
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
        ("nothing.epochs=1", r"no key 'nothing' in the top level"),
        ("training.epochs.x=1", r"'training.epochs' is not a section"),
        ("model.conditioning_options=3", r"model.conditioning_options: expected dict, got 3"),
        ("model.conditioning_options.a.b=1", r"expected model.conditioning_options.<name>"),
        ("training.epochs=[1", r"value of 'training.epochs' is not valid YAML"),
    ],
)
def test_bad_overrides(override, pattern):
    with pytest.raises(InputError, match=pattern):
        load_config(overrides=[override])


def test_dotted_names_reach_layer_options_and_placement_levels():
    config = load_config(
        overrides=[
            "model.conditioning_options.sigma_scale=0.5",
            "model.conditioning_options.kernel=cauchy",
            "model.placement.dec0=film",
            "model.placement.bottleneck=inside",
            "data.generate.images=10",
        ]
    )
    assert config.model.conditioning_options == {"sigma_scale": 0.5, "kernel": "cauchy"}
    assert config.model.placement == {"dec0": "film", "bottleneck": "inside"}
    assert config.data.generate.images == 10 and config.data.generate.dataset == "clevr-seg"


@pytest.mark.parametrize(
    "override, pattern",
    [
        ("training.epochs=0", r"training.epochs: must be at least 1, got 0"),
        ("training.batch_size=-3", r"training.batch_size: must be at least 1, got -3"),
        ("training.learning_rate=.inf", r"training.learning_rate: expected a finite number"),
        ("training.learning_rate=0", r"training.learning_rate: must be a positive finite"),
        ("training.min_delta=-1", r"training.min_delta: must be finite and >= 0"),
        ("model.dropout=1", r"model.dropout: must be in \[0, 1\)"),
        ("data.generate.dataset=mnist", r"data.generate.dataset: got 'mnist'; allowed: clevr"),
        ("data.generate.spacing=0", r"data.generate.spacing: must be a positive finite"),
        ("data.generate.val_fraction=0.9", r"val_fraction \+ test_fraction must be below 1"),
        ("training.monitor=val_dice", r"training.monitor: got 'val_dice'; allowed: val_loss, val_"),
        (
            "training.monitor=val_pixel_loss",
            r"needs a loss that reports its mean per pixel \(focal_sum",
        ),
        ("training.final_model=first", r"training.final_model: got 'first'; allowed: best, last"),
        ("training.jit_compile=always", r"training.jit_compile: got 'always'; allowed: auto, true"),
        ("training.jit_compile=1", r"training.jit_compile: expected bool \| str, got 1"),
        (
            "data.generate.split=sorted",
            r"data.generate.split: got 'sorted'; allowed: shuffled, by_",
        ),
    ],
)
def test_values_out_of_range(override, pattern):
    with pytest.raises(InputError, match=pattern):
        load_config(overrides=[override])


def test_data_is_a_path_or_data_to_generate():
    with pytest.raises(InputError, match="data: give path or generate, not both"):
        load_config(overrides=["data.path=x.npz", "data.generate.images=10"])
    assert load_config(overrides=["data.path=x.npz"]).data.generate is None


def test_floats_written_without_a_dot_read_as_floats(tmp_path):
    # YAML 1.1 (PyYAML) reads 1e-3 as a string; a float field takes it as the number.
    path = tmp_path / "c.yaml"
    path.write_text("training: {learning_rate: 1e-3}\n")
    assert load_config(path).training.learning_rate == 1e-3
    path.write_text("training: {learning_rate: fast}\n")
    with pytest.raises(InputError, match=r"c.yaml: training.learning_rate: expected float"):
        load_config(path)


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"- a\n- b\n", "expected a YAML mapping"),
        (b"just text\n", "expected a YAML mapping"),
        (b"\xff\xfe\x00binary", "not a text file"),
    ],
)
def test_files_that_are_not_a_config_mapping(tmp_path, content, pattern):
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=pattern):
        load_config(path)


def test_alias_bombs_are_refused_before_expansion(tmp_path, monkeypatch):
    # 9 levels of 9 aliases: 9**9 values once expanded, 90 written.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="values once its aliases are expanded"):
        read_yaml_mapping(path)
    with pytest.raises(InputError, match="aliases are expanded"):
        load_config(overrides=[f"model.conditioning_options.x={{{', '.join(lines)}}}"])
    # A few aliases are fine, and the limit can be raised.
    path.write_text("a: &a [1, 2]\nb: *a\n")
    assert read_yaml_mapping(path) == {"a": [1, 2], "b": [1, 2]}
    monkeypatch.setenv("INSIDE_KERAS_MAX_YAML_NODES", "4")
    with pytest.raises(InputError, match="INSIDE_KERAS_MAX_YAML_NODES"):
        read_yaml_mapping(path)


def test_large_and_deeply_nested_files_are_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(InputError, match="larger than the limit of 1048576 bytes"):
        read_yaml_mapping(path)
    path.write_text("[" * 50_000)
    with pytest.raises(InputError, match="nested too deeply|not valid YAML"):
        read_yaml_mapping(path)


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


def test_a_section_left_empty_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("training:\n")
    with pytest.raises(InputError, match=r"c.yaml: training: expected a mapping, got None"):
        load_config(path)


def test_configs_pickle_and_stay_frozen_and_valid():
    # Worker processes (reproduce's jobs, Ray's trials) receive configs pickled.
    config = load_config(
        overrides=["model.conditioning_options.sigma_scale=0.5", "training.jit_compile=false"]
    )
    assert pickle.loads(pickle.dumps(config)) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.training.epochs = 3
    assert dataclasses.replace(config.training, epochs=3).epochs == 3
    with pytest.raises(pydantic.ValidationError):
        dataclasses.replace(config.training, epochs=0)
    with pytest.raises(pydantic.ValidationError):
        DataConfig(path="x.npz", generate=GenerateConfig())


def test_sections_in_other_modules_share_the_messages():
    from inside_keras.sweep.spec import ResourcesSpec

    with pytest.raises(InputError, match=r"^s.yaml: resources.gpus_per_trial: expected float"):
        build_dataclass(ResourcesSpec, {"gpus_per_trial": True}, "s.yaml: resources")
    with pytest.raises(InputError, match=r"^s.yaml: resources: unknown key\(s\) \['gpus'\]"):
        build_dataclass(ResourcesSpec, {"gpus": 1}, "s.yaml: resources")
    assert build_dataclass(ResourcesSpec, {"gpus_per_trial": "5e-1"}, "s").gpus_per_trial == 0.5
