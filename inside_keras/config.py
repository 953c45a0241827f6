"""Typed experiment configuration: dataclasses built from YAML, validated on load.

An experiment config has four sections, `data`, `model`, `training` and `output`.
It is read with `yaml.safe_load`; unknown keys are rejected with the list of known
ones, and every value is checked against its field's type. Overrides from the
command line (`--set training.epochs=3`) are parsed as YAML scalars and applied
before validation, so they obey the same rules.

    config = load_config("configs/clevr_inside.yaml", overrides=["training.epochs=3"])
    config.model.conditioning  # "inside"
"""

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from inside_keras.errors import InputError


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the prepared data is and how it is batched.

    Args:
        path: prepared `.npz` file (see `inside_keras.data.prepared`).
        augment: random flips that keep the condition true (training split only).
    """

    path: str = "data/clevr-seg/prepared_coordinates.npz"
    augment: bool = False


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Which network and where its conditioning goes.

    Args:
        architecture: `"encoder_decoder"` (the paper's CLEVR-Seg network) or `"unet"`.
        conditioning: `"inside"`, `"film"`, `"guide_me"` or `"none"`.
        placement: U-Net placement (shortcut, list of levels, or level -> type mapping).
        depth: U-Net depth.
        base_filters: U-Net filters at the first level.
        norm: U-Net normalisation: `"batch"`, `"instance"`, `"group"` or None.
        dropout: U-Net dropout rate.
        conditioning_options: keyword arguments of the conditioning layer
            (e.g. INSIDE's `sigma_relative`).
    """

    architecture: str = "encoder_decoder"
    conditioning: str = "inside"
    placement: Any = "bottleneck"
    depth: int = 4
    base_filters: int = 32
    norm: str | None = "batch"
    dropout: float = 0.0
    conditioning_options: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How the network is optimised (defaults: the paper's Adam and early stopping).

    Args:
        epochs: maximum number of epochs.
        batch_size: samples per step.
        learning_rate: Adam's learning rate.
        loss: loss name (see `inside_keras.losses`).
        seed: seed for `keras.utils.set_random_seed` and the data order.
        patience: early-stopping patience on the validation loss, in epochs.
        min_delta: smallest validation-loss change that counts as improvement.
    """

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    seed: int = 0
    patience: int = 25
    min_delta: float = 1e-4


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    """Where results go.

    Args:
        dir: output folder (model, logs, figures, the resolved config).
    """

    dir: str = "runs/experiment"


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: `data`, `model`, `training`, `output`."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)


def _type_name(annotation):
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _check_value(value, annotation, where):
    """Return `value` coerced to `annotation` (int -> float allowed) or raise InputError."""
    if annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is not type(None):
                try:
                    return _check_value(value, option, where)
                except InputError:
                    pass
        raise InputError(f"expected {_type_name(annotation)}, got {value!r}", where)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is int and isinstance(value, bool):
        raise InputError(f"expected int, got {value!r}", where)
    if isinstance(value, annotation):
        return value
    raise InputError(f"expected {_type_name(annotation)}, got {value!r}", where)


def _nested_dataclass(annotation, value):
    """The dataclass of an `X` or `X | None` field given a mapping, else `annotation`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and value is not None:
        nested = [arg for arg in typing.get_args(annotation) if dataclasses.is_dataclass(arg)]
        if len(nested) == 1:
            return nested[0]
    return annotation


def build_dataclass(cls, data, where):
    """Build dataclass `cls` from a mapping, rejecting unknown keys and wrong types.

    Args:
        cls: a dataclass type; nested dataclass fields are built recursively.
        data: mapping of field name to value (missing fields take defaults).
        where: location for error messages (file and section).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping, got {data!r}", where)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; known keys: {sorted(fields)}", where)
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        annotation = _nested_dataclass(hints[name], value)
        if dataclasses.is_dataclass(annotation):
            values[name] = build_dataclass(annotation, value, f"{where}.{name}")
        else:
            values[name] = _check_value(value, annotation, f"{where}.{name}")
    return cls(**values)


def apply_override(data, override, where="--set"):
    """Apply one `section.key=value` override to a nested mapping, in place.

    The key must exist in the config schema; the value is parsed as YAML.
    """
    if "=" not in override:
        raise InputError(f"expected section.key=value, got {override!r}", where)
    dotted, raw = override.split("=", 1)
    keys = dotted.strip().split(".")
    cls = ExperimentConfig
    node = data
    for depth, key in enumerate(keys):
        known = [field.name for field in dataclasses.fields(cls)]
        if key not in known:
            prefix = ".".join(keys[:depth]) or "top level"
            raise InputError(f"no key {key!r} in {prefix}; known keys: {sorted(known)}", where)
        annotation = typing.get_type_hints(cls)[key]
        if depth == len(keys) - 1:
            if dataclasses.is_dataclass(annotation):
                raise InputError(f"{dotted!r} is a section, not a key", where)
            node[key] = yaml.safe_load(raw)
        else:
            if not dataclasses.is_dataclass(annotation):
                raise InputError(f"{'.'.join(keys[: depth + 1])!r} is not a section", where)
            if node.get(key) is None:
                node[key] = {}
            if not isinstance(node[key], dict):
                raise InputError(f"section {key!r} is not a mapping in the config", where)
            node, cls = node[key], annotation
    return data


def load_config(path=None, overrides=()):
    """Read an experiment config from YAML (or defaults if `path` is None), apply overrides.

    Raises:
        InputError: missing or unparsable file, unknown keys, wrong types.
    """
    data = {}
    where = "config"
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise InputError("no such config file", path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise InputError(f"not valid YAML ({error})".replace("\n", " "), path) from None
    for override in overrides:
        apply_override(data, override)
    return build_dataclass(ExperimentConfig, data, where)


def config_to_dict(config):
    """The config as plain data, suitable for `yaml.safe_dump`."""
    return dataclasses.asdict(config)


def save_config(config, path):
    """Write the config as YAML that `load_config` reads back to an equal config."""
    Path(path).write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))
