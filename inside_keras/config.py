"""The experiment config: the one description of a training run, typed and validated.

An experiment config has four sections, `data`, `model`, `training` and `output`.
`train` runs one; `reproduce` runs one per method (`inside_keras.reproduce.spec`);
a sweep's trials each run one (`inside_keras.sweep.spec`). It is read with
`yaml.safe_load` (`read_yaml_mapping`); unknown keys are rejected with the list of
known ones, every value is checked against its field's type and range.

Dotted names address any value, in `--set` overrides (`train`, `reproduce`,
`sweep`), in a reproduction's per-method changes and in a sweep's search space:
`training.epochs`, `data.generate.images`, `model.conditioning_options.sigma_scale`
(one option of the conditioning layer) and `model.placement.dec0` (the conditioning
type of one U-Net level; a placement that is not yet a mapping becomes one, so the
levels named make up the placement). Override values are parsed as YAML scalars.

    config = load_config("configs/clevr_inside.yaml", overrides=["training.epochs=3"])
    config.model.conditioning  # "inside"
"""

import copy
import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from inside_keras.errors import InputError
from inside_keras.runs.limits import hint, limit, read_text

#: Datasets the `data.generate` section can generate and prepare.
GENERATED_DATASETS = ("clevr-seg", "acdc")
#: `data.generate.split` values (`inside_keras.data.clevr_seg.prepare.SPLITS`).
CLEVR_SPLITS = ("shuffled", "by_name")
#: Seeds are below this bound (NumPy's legacy seeding, which Keras uses, needs 32 bits).
MAX_SEED = 2**32
#: Most values (scalars, lists, mappings) a YAML file may hold once its aliases are
#: expanded; checked before anything is built, so an alias bomb is refused.
MAX_YAML_NODES = 100_000
#: `training.precision` values: Keras dtype policies a network can be built under.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
#: `training.distribution` values: one device, or data parallel over every device (JAX).
DISTRIBUTIONS = ("none", "data_parallel")
#: `training.monitor` values: what early stopping and the best model follow.
MONITORS = ("val_loss", "val_pixel_loss")
#: Losses that report a `pixel_loss` metric (their mean per pixel), which
#: `monitor: val_pixel_loss` follows.
PIXEL_LOSSES = ("focal_sum",)
#: `training.final_model` values: which epoch's model a finished run keeps.
FINAL_MODELS = ("best", "last")
#: `training.jit_compile` values: Keras's `compile(jit_compile=...)`.
JIT_COMPILE = ("auto", True, False)


@dataclasses.dataclass(frozen=True)
class GenerateConfig:
    """Synthetic data generated and prepared before training (cached by its settings).

    Args:
        dataset: `"clevr-seg"` (coordinates condition, the paper's CLEVR-Seg task) or
            `"acdc"` (phantom patients, or a real ACDC folder given as `source`;
            condition phase and slice position).
        images: CLEVR-Seg images to generate.
        patients: ACDC phantom patients to generate.
        size: prepared image side in pixels.
        spacing: ACDC only: prepared in-plane pixel size in mm. `size * spacing` is
            the field of view; the phantoms' hearts span up to about 110 mm,
            off-centre by up to 20 mm: 160 mm holds them.
        val_fraction: ACDC only: share of patients for validation.
        test_fraction: ACDC only: share of patients for testing.
        source: ACDC only: a real ACDC root (`training/patientNNN/`) to prepare instead
            of generated phantoms.
        folds: ACDC only: None, or K patient-level cross-validation folds stratified by
            `Info.cfg` Group (`prepare acdc --folds`): the prepared file carries each
            slice's `fold` and holds fold 0 out as `test` (`test_fraction` unused);
            `reproduce` then holds out each fold in turn.
        seed: generation and split seed.
        split: CLEVR-Seg only: `"shuffled"` (a seeded permutation) or `"by_name"` (the
            authors' split: train, val and test as blocks of the names in sorted
            order; `inside_keras.data.clevr_seg.prepare`).
    """

    dataset: str = "clevr-seg"
    images: int = 2000
    patients: int = 20
    size: int = 64
    spacing: float = 2.5
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    source: str | None = None
    folds: int | None = None
    seed: int = 0
    split: str = "shuffled"

    def validate(self, where):
        check_choice(self.dataset, GENERATED_DATASETS, f"{where}.dataset")
        check_choice(self.split, CLEVR_SPLITS, f"{where}.split")
        if self.split != "shuffled" and self.dataset != "clevr-seg":
            raise InputError(
                f"only clevr-seg is split by name; {self.dataset!r} splits by patient",
                f"{where}.split",
            )
        for name in ("images", "patients", "size"):
            check_at_least(getattr(self, name), 1, f"{where}.{name}")
        check_seed(self.seed, f"{where}.seed")
        _check_positive(self.spacing, f"{where}.spacing")
        for name in ("val_fraction", "test_fraction"):
            _check_fraction(getattr(self, name), f"{where}.{name}")
        if self.val_fraction + self.test_fraction >= 1:
            raise InputError(
                f"val_fraction + test_fraction must be below 1, got "
                f"{self.val_fraction} + {self.test_fraction}",
                where,
            )
        if self.source is not None and self.dataset != "acdc":
            raise InputError(
                f"only the acdc dataset reads a source folder, not {self.dataset!r}",
                f"{where}.source",
            )
        if self.folds is not None:
            check_at_least(self.folds, 2, f"{where}.folds")
            if self.dataset != "acdc":
                raise InputError(
                    f"only the acdc dataset is split into folds, not {self.dataset!r}",
                    f"{where}.folds",
                )


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The data a run trains on: a prepared file, or data to generate (one of them).

    Args:
        path: prepared `.npz` file (see `inside_keras.data.prepared`).
        generate: synthetic data to generate and prepare instead.
        augment: random flips that keep the condition true (training split only).
    """

    path: str | None = None
    generate: GenerateConfig | None = None
    augment: bool = False

    def validate(self, where):
        if self.path is not None and self.generate is not None:
            raise InputError("give path or generate, not both", where)


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

    def validate(self, where):
        check_at_least(self.depth, 1, f"{where}.depth")
        check_at_least(self.base_filters, 1, f"{where}.base_filters")
        if not 0 <= self.dropout < 1:
            raise InputError(f"must be in [0, 1), got {self.dropout!r}", f"{where}.dropout")


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
        precision: `"float32"`, or mixed precision (`"mixed_bfloat16"`,
            `"mixed_float16"` with loss scaling): the Keras dtype policy the network is
            built under; its output layer stays float32.
        distribution: `"none"` (one device) or `"data_parallel"`: the model replicated
            on every device Keras lists, each batch split across them
            (`keras.distribution.DataParallel`; JAX only, `batch_size` a multiple of
            the number of devices).
        monitor: what early stopping (`patience`, `min_delta`) and the best model
            follow: `"val_loss"`, or `"val_pixel_loss"`, the validation loss per pixel
            of a loss that sums over pixels (`focal_sum`), as the authors' early stopping
            watched it.
        final_model: the model a finished run keeps as `model.keras`: `"best"` (the
            epoch of the best monitored value) or `"last"` (the last epoch's, which the
            authors' code scores on the test split).
        jit_compile: Keras's `compile(jit_compile=...)`: `"auto"` (Keras's choice: XLA
            on JAX and TensorFlow, eager on PyTorch), `true` (XLA; `torch.compile` on
            PyTorch) or `false` (eager).
    """

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    seed: int = 0
    patience: int = 25
    min_delta: float = 1e-4
    precision: str = "float32"
    distribution: str = "none"
    monitor: str = "val_loss"
    final_model: str = "best"
    jit_compile: bool | str = "auto"

    def validate(self, where):
        check_choice(self.precision, PRECISIONS, f"{where}.precision")
        check_choice(self.monitor, MONITORS, f"{where}.monitor")
        check_choice(self.final_model, FINAL_MODELS, f"{where}.final_model")
        if self.jit_compile not in JIT_COMPILE:
            raise InputError(
                f"got {self.jit_compile!r}; allowed: auto, true, false", f"{where}.jit_compile"
            )
        if self.monitor == "val_pixel_loss" and self.loss not in PIXEL_LOSSES:
            raise InputError(
                f"val_pixel_loss needs a loss that reports its mean per pixel "
                f"({', '.join(PIXEL_LOSSES)}); the loss is {self.loss!r}: use val_loss",
                f"{where}.monitor",
            )
        check_choice(self.distribution, DISTRIBUTIONS, f"{where}.distribution")
        check_at_least(self.epochs, 1, f"{where}.epochs")
        check_at_least(self.batch_size, 1, f"{where}.batch_size")
        check_at_least(self.patience, 1, f"{where}.patience")
        check_seed(self.seed, f"{where}.seed")
        _check_positive(self.learning_rate, f"{where}.learning_rate")
        if not math.isfinite(self.min_delta) or self.min_delta < 0:
            raise InputError(
                f"must be finite and >= 0, got {self.min_delta!r}", f"{where}.min_delta"
            )


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    """Where results go.

    Args:
        dir: output folder (model, logs, checkpoint, figures, the resolved config).
    """

    dir: str = "runs/experiment"


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: `data`, `model`, `training`, `output`."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)


def check_choice(value, allowed, where):
    """Raise InputError naming `where` unless `value` is one of `allowed`."""
    if value not in allowed:
        raise InputError(f"got {value!r}; allowed: {', '.join(map(str, allowed))}", where)


def check_at_least(value, low, where):
    """Raise InputError naming `where` unless `value >= low`."""
    if value < low:
        raise InputError(f"must be at least {low}, got {value!r}", where)


def check_seed(value, where):
    """Raise InputError naming `where` unless `value` is a seed NumPy and Keras accept."""
    if not 0 <= value < MAX_SEED:
        raise InputError(f"must be in [0, {MAX_SEED}), got {value!r}", where)


def _check_positive(value, where):
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"must be a positive finite number, got {value!r}", where)


def _check_fraction(value, where):
    if not 0 <= value < 1:
        raise InputError(f"must be in [0, 1), got {value!r}", where)


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
        value = float(value)
    if annotation is float and isinstance(value, str):
        value = _float_text(value, where)
    if annotation is int and isinstance(value, bool):
        raise InputError(f"expected int, got {value!r}", where)
    if not isinstance(value, annotation):
        raise InputError(f"expected {_type_name(annotation)}, got {_short(value)}", where)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"expected a finite number, got {value!r}", where)
    return value


def _float_text(text, where):
    """A float written as YAML 1.1 reads as a string (`1e-3`; YAML wants `1.0e-3`)."""
    try:
        return float(text)
    except ValueError:
        raise InputError(f"expected float, got {_short(text)}", where) from None


def _child(where, name):
    """Location of field `name` inside `where` (`file: section.key`)."""
    return f"{where} {name}" if where.endswith(":") else f"{where}.{name}"


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _section_type(annotation):
    """The dataclass of an `X` or `X | None` field, else None."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        nested = [arg for arg in typing.get_args(annotation) if dataclasses.is_dataclass(arg)]
        if len(nested) == 1:
            return nested[0]
    return None


def build_dataclass(cls, data, where):
    """Build and validate dataclass `cls` from a mapping, rejecting unknown keys.

    Args:
        cls: a dataclass type; nested dataclass fields are built recursively, and a
            `validate(where)` method, where the class has one, checks ranges.
        data: mapping of field name to value (missing fields take defaults).
        where: location for error messages (file and section).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping, got {_short(data)}", where.rstrip(":"))
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(map(str, set(data) - set(fields)))
    if unknown:
        message = f"unknown key(s) {_short(unknown)}; known keys: {sorted(fields)}"
        raise InputError(message, where.rstrip(":"))
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        section = _section_type(hints[name])
        if section is not None and value is not None:
            values[name] = build_dataclass(section, value, _child(where, name))
        else:
            values[name] = _check_value(value, hints[name], _child(where, name))
    built = cls(**values)
    if hasattr(built, "validate"):
        built.validate(where)
    return built


def set_dotted(data, dotted, value, schema=ExperimentConfig, where="--set"):
    """Set `dotted` (e.g. `"training.epochs"`) to `value` in a config mapping, in place.

    The name must exist in `schema`; below a mapping-valued field
    (`model.conditioning_options`, `model.placement`) one more key names an entry.

    Raises:
        InputError: the name is not in the schema, or names a section.
    """
    keys = dotted.strip().split(".")
    cls, node = schema, data
    for depth, key in enumerate(keys):
        known = [field.name for field in dataclasses.fields(cls)]
        if key not in known:
            prefix = ".".join(keys[:depth]) or "the top level"
            raise InputError(f"no key {key!r} in {prefix}; known keys: {sorted(known)}", where)
        annotation = typing.get_type_hints(cls)[key]
        section = _section_type(annotation)
        last = depth == len(keys) - 1
        if last:
            if section is not None and not isinstance(value, dict | None):
                raise InputError(f"{dotted!r} is a section, not a key", where)
            node[key] = value
            return data
        if section is None:
            return _set_entry(node, keys, depth, value, where)
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node, cls = node[key], section
    return data


def _set_entry(node, keys, depth, value, where):
    """Set `keys[depth + 1]` inside the mapping-valued field `keys[depth]`."""
    dotted = ".".join(keys)
    if keys[: depth + 1] not in (["model", "conditioning_options"], ["model", "placement"]):
        raise InputError(f"{'.'.join(keys[: depth + 1])!r} is not a section", where)
    if len(keys) != depth + 2:
        raise InputError(f"expected {'.'.join(keys[: depth + 1])}.<name>, got {dotted!r}", where)
    if not isinstance(node.get(keys[depth]), dict):
        node[keys[depth]] = {}
    node[keys[depth]][keys[-1]] = value
    return node


def parse_override(override, where="--set"):
    """`(dotted, value)` of a `section.key=value` override, the value parsed as YAML."""
    if not isinstance(override, str) or "=" not in override:
        raise InputError(f"expected section.key=value, got {_short(override)}", where)
    dotted, raw = override.split("=", 1)
    try:
        value = _safe_load(raw, where)
    except (yaml.YAMLError, RecursionError):
        message = f"value of {dotted.strip()!r} is not valid YAML: {_short(raw)}"
        raise InputError(message, where) from None
    return dotted.strip(), value


def apply_overrides(data, overrides, schema=ExperimentConfig, where="--set"):
    """A copy of the config mapping `data` with `section.key=value` overrides applied."""
    data = copy.deepcopy(data)
    for override in overrides:
        dotted, value = parse_override(override, where)
        set_dotted(data, dotted, value, schema, f"{where} {dotted}")
    return data


def _expanded_nodes(node, counted):
    """Values in the YAML `node` with every alias expanded (each node counted once
    in `counted`, so this takes time in the size of the file, not of the expansion)."""
    if id(node) not in counted:
        counted[id(node)] = 1  # a recursive alias counts once
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [item for pair in node.value for item in pair]
        else:
            children = ()
        counted[id(node)] = 1 + sum(_expanded_nodes(child, counted) for child in children)
    return counted[id(node)]


def _safe_load(text, path):
    """`yaml.safe_load(text)`, refused when its aliases expand to more than
    `MAX_YAML_NODES` values (raisable through the environment)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        bound = limit("MAX_YAML_NODES", MAX_YAML_NODES)
        size = _expanded_nodes(node, {})
        if size > bound:
            raise InputError(
                f"holds {size} values once its aliases are expanded, more than the limit of "
                f"{bound}; {hint('MAX_YAML_NODES')}",
                path,
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml_mapping(path, what="config file"):
    """The mapping in the YAML file `path` (read as `yaml.safe_load` reads it).

    The file is read no further than `inside_keras.runs.limits.MAX_TEXT_BYTES`, and refused
    when its aliases expand to more than `MAX_YAML_NODES` values.

    Raises:
        InputError: no such file, too large, not text, not YAML, too many values, or
            not a mapping.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is a folder; expected a YAML {what}", path)
    if not path.is_file():
        raise InputError(f"no such {what}", path)
    text = read_text(path, f"a YAML {what}")
    try:
        data = _safe_load(text, path)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise InputError(f"not valid YAML ({reason[:200]})", path) from None
    except RecursionError:
        raise InputError(f"nested too deeply; expected a YAML {what}", path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"expected a YAML mapping, got {_short(data)}", path)
    return data


def build_config(data, where="config"):
    """An `ExperimentConfig` from plain data (a mapping as read from YAML)."""
    return build_dataclass(ExperimentConfig, data, where)


def load_config(path=None, overrides=()):
    """Read an experiment config from YAML (or defaults if `path` is None), apply overrides.

    Raises:
        InputError: missing or unparsable file, unknown keys, wrong types or ranges.
    """
    data = {} if path is None else read_yaml_mapping(path)
    return build_config(apply_overrides(data, overrides), "config" if path is None else f"{path}:")


def config_to_dict(config):
    """The config as plain data, suitable for `yaml.safe_dump`."""
    return dataclasses.asdict(config)


def config_yaml(config):
    """The config as YAML text that `load_config` reads back to an equal config."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)


def save_config(config, path):
    """Write the config atomically as YAML that `load_config` reads back to an equal config."""
    from inside_keras.runs.atomic import write_text

    write_text(path, config_yaml(config))
