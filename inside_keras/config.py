"""The experiment config: the one description of a training run, typed and validated.

An experiment config has four sections, `data`, `model`, `training` and `output`.
`train` runs one; `reproduce` runs one per method (`inside_keras.reproduce.spec`);
a sweep's trials each run one (`inside_keras.sweep.spec`). It is read with
`yaml.safe_load` (`read_yaml_mapping`). Each section is a frozen pydantic dataclass
whose fields declare their type, range and description once: they check a config
(unknown keys are rejected with the list of known ones, every value is checked
against its field's type and range) and make its JSON schema (`config_schema`,
`inside-keras info --schema`), which editors can check a YAML file against. A refused
config raises `InputError` in one line: the file and dotted key, the value and what is
allowed.

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
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.dataclasses import dataclass

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

#: Settings of every config section (`@dataclass(frozen=True, config=SECTION)`):
#: unknown keys refused, floats finite, field descriptions from attribute docstrings.
SECTION = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)


def _number(value):
    """YAML 1.1 reads a float without a dot (`1e-3`) as text: it counts as the number.
    Other text is left for the type check to refuse."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def _float(**bounds):
    """A float field's type, finite and within `bounds` (`ge`, `gt`, `lt`); an int or a
    number read as text counts (a bool does not)."""
    return Annotated[StrictFloat, Field(**bounds), BeforeValidator(_number)]


#: An int of at least 1 (a bool or a float is no int).
Count = Annotated[StrictInt, Field(ge=1)]
#: A seed NumPy's legacy seeding, which Keras uses, accepts.
Seed = Annotated[StrictInt, Field(ge=0, lt=MAX_SEED)]
#: A finite float (an int counts, and so does a number YAML 1.1 read as text).
Float = _float()
#: A finite float in [0, 1).
Fraction = _float(ge=0, lt=1)
#: A positive finite float.
Positive = _float(gt=0)
#: A finite float of at least 0.
NonNegative = _float(ge=0)


class _Refused(ValueError):
    """A section's value refused for what its other fields hold.

    Args:
        message: what is wrong and what is allowed.
        key: the field at fault, or None for the section as a whole.
    """

    def __init__(self, message, key=None):
        super().__init__(message)
        self.message = message
        self.key = key


@dataclass(frozen=True, config=SECTION)
class GenerateConfig:
    """Synthetic data generated and prepared before training (cached by its settings)."""

    dataset: Literal[GENERATED_DATASETS] = "clevr-seg"
    """`"clevr-seg"` (coordinates condition, the paper's CLEVR-Seg task) or `"acdc"`
    (phantom patients, or a real ACDC folder given as `source`; condition phase and
    slice position)."""
    images: Count = 2000
    """CLEVR-Seg images to generate."""
    patients: Count = 20
    """ACDC phantom patients to generate."""
    size: Count = 64
    """Prepared image side in pixels."""
    spacing: Positive = 2.5
    """ACDC only: prepared in-plane pixel size in mm. `size * spacing` is the field of
    view; the phantoms' hearts span up to about 110 mm, off-centre by up to 20 mm:
    160 mm holds them."""
    val_fraction: Fraction = 0.1
    """ACDC only: share of patients for validation (with `test_fraction`, below 1)."""
    test_fraction: Fraction = 0.2
    """ACDC only: share of patients for testing."""
    source: StrictStr | None = None
    """ACDC only: a real ACDC root (`training/patientNNN/`) to prepare instead of
    generated phantoms."""
    folds: Annotated[StrictInt | None, Field(ge=2)] = None
    """ACDC only: None, or K patient-level cross-validation folds stratified by
    `Info.cfg` Group (`prepare acdc --folds`): the prepared file carries each slice's
    `fold` and holds fold 0 out as `test` (`test_fraction` unused); `reproduce` then
    holds out each fold in turn."""
    seed: Seed = 0
    """Generation and split seed."""
    split: Literal[CLEVR_SPLITS] = "shuffled"
    """CLEVR-Seg only: `"shuffled"` (a seeded permutation) or `"by_name"` (the authors'
    split: train, val and test as blocks of the names in sorted order;
    `inside_keras.data.clevr_seg.prepare`)."""

    @model_validator(mode="after")
    def _check_dataset_options(self):
        if self.split != "shuffled" and self.dataset != "clevr-seg":
            message = f"only clevr-seg is split by name; {self.dataset!r} splits by patient"
            raise _Refused(message, "split")
        if self.val_fraction + self.test_fraction >= 1:
            raise _Refused(
                f"val_fraction + test_fraction must be below 1, got "
                f"{self.val_fraction} + {self.test_fraction}"
            )
        if self.source is not None and self.dataset != "acdc":
            message = f"only the acdc dataset reads a source folder, not {self.dataset!r}"
            raise _Refused(message, "source")
        if self.folds is not None and self.dataset != "acdc":
            message = f"only the acdc dataset is split into folds, not {self.dataset!r}"
            raise _Refused(message, "folds")
        return self


@dataclass(frozen=True, config=SECTION)
class DataConfig:
    """The data a run trains on: a prepared file, or data to generate (one of them)."""

    path: StrictStr | None = None
    """Prepared `.npz` file (see `inside_keras.data.prepared`)."""
    generate: GenerateConfig | None = None
    """Synthetic data to generate and prepare instead (under `--data`, default `data/`)."""
    augment: StrictBool = False
    """Random flips that keep the condition true (training split only)."""

    @model_validator(mode="after")
    def _check_one_source(self):
        if self.path is not None and self.generate is not None:
            raise _Refused("give path or generate, not both")
        return self


@dataclass(frozen=True, config=SECTION)
class ModelConfig:
    """Which network and where its conditioning goes."""

    architecture: StrictStr = "encoder_decoder"
    """`"encoder_decoder"` (the paper's CLEVR-Seg network) or `"unet"`."""
    conditioning: StrictStr = "inside"
    """`"inside"`, `"film"`, `"guide_me"` or `"none"`."""
    placement: Any = "bottleneck"
    """U-Net placement: a shortcut (`"bottleneck"`, `"decoder"`, `"all"`, ...), a list
    of levels, or a mapping of level (`enc0`, `bottleneck`, `dec0`, ...) to
    conditioning type."""
    depth: Count = 4
    """U-Net depth."""
    base_filters: Count = 32
    """U-Net filters at the first level."""
    norm: StrictStr | None = "batch"
    """U-Net normalisation: `"batch"`, `"instance"`, `"group"` or None."""
    dropout: Fraction = 0.0
    """U-Net dropout rate."""
    conditioning_options: dict = dataclasses.field(default_factory=dict)
    """Keyword arguments of the conditioning layer (e.g. INSIDE's `sigma_relative`)."""


@dataclass(frozen=True, config=SECTION)
class TrainingConfig:
    """How the network is optimised (defaults: the paper's Adam and early stopping)."""

    epochs: Count = 100
    """Maximum number of epochs."""
    batch_size: Count = 32
    """Samples per step."""
    learning_rate: Positive = 1e-3
    """Adam's learning rate."""
    loss: StrictStr = "bce_dice"
    """Loss name (see `inside_keras.losses`): `bce_dice`, `focal_sum` (the authors'
    summed focal loss), `focal`, `dice`, `ce_dice`."""
    seed: Seed = 0
    """Seed for `keras.utils.set_random_seed` and the data order."""
    patience: Count = 25
    """Early-stopping patience on the monitored value, in epochs."""
    min_delta: NonNegative = 1e-4
    """Smallest change of the monitored value that counts as improvement."""
    precision: Literal[PRECISIONS] = "float32"
    """`"float32"`, or mixed precision (`"mixed_bfloat16"`, `"mixed_float16"` with loss
    scaling): the Keras dtype policy the network is built under; its output layer stays
    float32."""
    distribution: Literal[DISTRIBUTIONS] = "none"
    """`"none"` (one device) or `"data_parallel"`: the model replicated on every device
    Keras lists, each batch split across them (`keras.distribution.DataParallel`; JAX
    only)."""
    monitor: Literal[MONITORS] = "val_loss"
    """What early stopping (`patience`, `min_delta`) and the best model follow:
    `"val_loss"`, or `"val_pixel_loss"`, the validation loss per pixel of a loss that
    sums over pixels (`focal_sum`), as the authors' early stopping watched it."""
    final_model: Literal[FINAL_MODELS] = "best"
    """The model a finished run keeps as `model.keras`: `"best"` (the epoch of the best
    monitored value) or `"last"` (the last epoch's, which the authors' code scores on
    the test split)."""
    jit_compile: Literal["auto"] | StrictBool = "auto"
    """Keras's `compile(jit_compile=...)`: `"auto"` (Keras's choice: XLA on JAX and
    TensorFlow, eager on PyTorch), `true` (XLA; `torch.compile` on PyTorch) or `false`
    (eager)."""
    images_every: Annotated[StrictInt, Field(ge=0)] = 5
    """`train` draws its TensorBoard images (`inside_keras.training.tensorboard_logs`)
    after every this many epochs and after the last; 0: none."""

    @model_validator(mode="after")
    def _check_monitor(self):
        if self.monitor == "val_pixel_loss" and self.loss not in PIXEL_LOSSES:
            raise _Refused(
                f"val_pixel_loss needs a loss that reports its mean per pixel "
                f"({', '.join(PIXEL_LOSSES)}); the loss is {self.loss!r}: use val_loss",
                "monitor",
            )
        return self


@dataclass(frozen=True, config=SECTION)
class OutputConfig:
    """Where results go."""

    dir: StrictStr = "runs/experiment"
    """Output folder (model, logs, checkpoint, figures, the resolved config)."""


@dataclass(frozen=True, config=SECTION)
class ExperimentConfig:
    """A whole experiment: `data`, `model`, `training`, `output`."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    """What the run trains on."""
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    """The network."""
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    """The optimisation."""
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)
    """Where results go."""


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


def _child(where, name):
    """Location of field `name` inside `where` (`file: section.key`)."""
    return f"{where} {name}" if where.endswith(":") else f"{where}.{name}"


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _section_type(annotation):
    """The section class of an `X` or `X | None` field, else None."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        nested = [arg for arg in typing.get_args(annotation) if dataclasses.is_dataclass(arg)]
        if len(nested) == 1:
            return nested[0]
    return None


def build_dataclass(cls, data, where):
    """Build and validate config section `cls` from a mapping, rejecting unknown keys.

    Args:
        cls: a section class (`@dataclass(frozen=True, config=SECTION)`); nested sections
            are built from nested mappings.
        data: mapping of field name to value (missing fields take defaults), or None.
        where: location for error messages (file and section).

    Raises:
        InputError: the first problem, in one line: the dotted key, the value and what
            is allowed.
    """
    try:
        return TypeAdapter(cls).validate_python({} if data is None else data)
    except ValidationError as error:
        raise _input_error(cls, error.errors(), where) from None


#: Pydantic's error types for a key a section does not have.
_UNKNOWN_KEY = ("unexpected_keyword_argument", "invalid_key")
#: Pydantic's error types for a number out of its field's range.
_OUT_OF_RANGE = ("greater_than", "greater_than_equal", "less_than")


def _input_error(cls, errors, where):
    """The InputError of the first of pydantic's `errors` in building `cls` (unknown keys
    first, the outermost section's first), located at the dotted key under `where`."""
    unknown = [error for error in errors if error["type"] in _UNKNOWN_KEY]
    error = min(unknown, key=lambda error: len(error["loc"])) if unknown else errors[0]
    if unknown:
        parent = error["loc"][:-1]
        names, section, _ = _locate(cls, parent)
        keys = sorted(str(other["loc"][-1]) for other in unknown if other["loc"][:-1] == parent)
        known = sorted(section.__pydantic_fields__)
        return InputError(f"unknown key(s) {_short(keys)}; known keys: {known}", _at(where, names))
    names, _, field = _locate(cls, error["loc"])
    refused = error.get("ctx", {}).get("error")
    if isinstance(refused, _Refused):
        keys = [refused.key] if refused.key else []
        return InputError(refused.message, _at(where, names + keys))
    value = error["input"]
    if field is None:
        message = f"expected a mapping, got {_short(value)}"
    elif error["type"] == "finite_number":
        message = f"expected a finite number, got {value!r}"
    elif error["type"] in _OUT_OF_RANGE:
        number = float in _members(field.annotation)
        value = float(value) if number else value  # as the field holds it
        message = f"must be {_range(field, number)}, got {value!r}"
    else:
        message = _refused(field.annotation, value)
    return InputError(message, _at(where, names))


def _locate(cls, loc):
    """`(names, section, field)` of a pydantic error location in section `cls`: the field
    names along it, the innermost section and the field reached (None: the section
    itself). What follows a field (the tags of a union's members) is not a name."""
    names, field = [], None
    for key in loc:
        if field is not None or key not in cls.__pydantic_fields__:
            break
        names.append(key)
        field = cls.__pydantic_fields__[key]
        section = _section_type(field.annotation)
        if section is not None:
            cls, field = section, None
    return names, cls, field


def _at(where, names):
    """The location of the dotted key `names` under `where` (`where` itself if empty)."""
    return _child(where, ".".join(names)) if names else where.rstrip(":")


def _members(annotation):
    """The types and Literals `annotation` allows (unions flattened, Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [member for arg in typing.get_args(annotation) for member in _members(arg)]
    return [annotation]


def _range(field, number):
    """The range of a numeric field, as a message says it (`in [0, 1)`, `at least 1`)."""
    bounds = {
        name: getattr(item, name)
        for item in field.metadata
        for name in ("ge", "gt", "lt")
        if hasattr(item, name)
    }
    if "lt" in bounds:
        return f"in [{bounds['ge']}, {bounds['lt']})"
    if "gt" in bounds:  # gt=0 (`Positive`) is the one open lower bound
        return "a positive finite number"
    return f"finite and >= {bounds['ge']}" if number else f"at least {bounds['ge']}"


def _refused(annotation, value):
    """Why `value` does not fit `annotation`: a type it does not allow, or (of a type it
    allows) a value other than its choices (the values of its Literals and bools)."""
    allowed, choices = [], []
    for member in _members(annotation):
        if typing.get_origin(member) is Literal:
            allowed += [type(choice) for choice in typing.get_args(member)]
            choices += map(str, typing.get_args(member))
        else:
            allowed.append(member)
            choices += ["true", "false"] if member is bool else []  # as YAML writes them
    if type(value) in allowed:
        return f"got {value!r}; allowed: {', '.join(choices)}"
    names = {"None" if kind is type(None) else kind.__name__ for kind in allowed}
    ordered = sorted(names, key=lambda name: (name == "None", name))
    return f"expected {' | '.join(ordered)}, got {_short(value)}"


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


def config_schema():
    """The experiment config's JSON schema: each key's type, range, default and
    description (`inside-keras info --schema`; editors check a config file against it)."""
    return TypeAdapter(ExperimentConfig).json_schema()


def config_yaml(config):
    """The config as YAML text that `load_config` reads back to an equal config."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)


def save_config(config, path):
    """Write the config atomically as YAML that `load_config` reads back to an equal config."""
    from inside_keras.runs.atomic import write_text

    write_text(path, config_yaml(config))
