"""Sweep specifications: typed, validated YAML describing one Ray Tune search.

A spec names the data, the experiment every trial starts from, what to optimise,
the search space, the search algorithm, the scheduler and the resources:

    dataset:
      generate: {dataset: clevr-seg, images: 2000, size: 64}   # or: path: FILE.npz
    experiment:            # an experiment config (see `inside_keras.config`)
      model: {architecture: unet, depth: 3, base_filters: 16, conditioning: inside}
      training: {epochs: 20, loss: bce_dice}
    metric: val_dice
    mode: max
    space:
      model.placement: {grid: [bottleneck, decoder, all]}
      model.conditioning_options.sigma_penalty: {loguniform: [1.0e-5, 1.0e-2]}
      training.learning_rate: {loguniform: [3.0e-4, 3.0e-3]}
    search: {algorithm: random, num_samples: 4, seed: 0}
    scheduler: {name: asha, grace_period: 2, reduction_factor: 2}
    resources: {cpus_per_trial: 1, gpus_per_trial: 0}
    max_failures: 2
    quick:                 # merged over the spec by --quick
      dataset: {generate: {images: 600, size: 48}}

Parameter names are dotted experiment-config keys (`section.key`), INSIDE / FiLM /
Guide Me options as `model.conditioning_options.<option>`, and the conditioning
type of one U-Net level as `model.placement.<level>` (e.g. `model.placement.dec0:
{choice: [none, film, inside]}`; the searched levels then make up the placement
and the others stay unconditioned). Each parameter has one distribution:
`choice` / `grid` (a non-empty list), `uniform` / `loguniform` (`[low, high]`) or
`randint` (`[low, high)`, integers). Every choice value is checked against the
config's types and the conditioning layers' own argument checks before Ray starts.
"""

import copy
import dataclasses
from pathlib import Path

import yaml

from inside_keras.config import ExperimentConfig, build_dataclass
from inside_keras.data.ready import ACDCData, ClevrSegData
from inside_keras.errors import InputError

#: Distributions a parameter may be drawn from.
DISTRIBUTIONS = ("choice", "grid", "uniform", "loguniform", "randint")
#: Search algorithms (`random` also expands `grid` axes; `optuna` is TPE).
ALGORITHMS = ("random", "optuna")
#: Trial schedulers.
SCHEDULERS = ("asha", "fifo")
#: Datasets a spec can generate synthetically.
GENERATED_DATASETS = ("clevr-seg", "acdc")
#: Experiment keys a sweep sets itself and so may not search.
RESERVED_KEYS = ("data.path", "output.dir")


@dataclasses.dataclass(frozen=True)
class GeneratedData:
    """Synthetic data the sweep generates and prepares once (in `<out>/data`).

    Args:
        dataset: `"clevr-seg"` (coordinates condition) or `"acdc"` (phantoms,
            condition phase and slice position).
        images: CLEVR-Seg images to generate.
        patients: ACDC phantom patients to generate.
        size: image side in pixels after preparation.
        spacing: ACDC only: prepared in-plane pixel size in mm. `size * spacing` is
            the field of view; the phantoms' hearts span up to about 110 mm,
            off-centre by up to 20 mm: 160 mm holds them.
        seed: generation and split seed.
    """

    dataset: str = "clevr-seg"
    images: int = 2000
    patients: int = 20
    size: int = 64
    spacing: float = 1.25
    seed: int = 0

    def data_settings(self):
        """The `data.ready` settings to generate and prepare: `ClevrSegData` or `ACDCData`."""
        if self.dataset == "clevr-seg":
            return ClevrSegData(images=self.images, size=self.size, seed=self.seed)
        return ACDCData(
            patients=self.patients, size=self.size, spacing=self.spacing, seed=self.seed
        )


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where the trials' data comes from: a prepared file or generated data (one of them).

    Args:
        path: prepared `.npz` file (relative paths are relative to the spec file).
        generate: synthetic data to generate instead.
    """

    path: str | None = None
    generate: GeneratedData | None = None


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    """How trials are drawn.

    Args:
        algorithm: `"random"` (random sampling, `grid` axes crossed) or `"optuna"` (TPE).
        num_samples: samples drawn (with `grid` axes: samples per grid point).
        seed: the search's random seed.
        max_concurrent: trials running at once (0: as many as resources allow).
    """

    algorithm: str = "random"
    num_samples: int = 8
    seed: int = 0
    max_concurrent: int = 0


@dataclasses.dataclass(frozen=True)
class SchedulerSpec:
    """Which trials run to the end.

    Args:
        name: `"asha"` (asynchronous successive halving on epochs) or `"fifo"` (all run).
        grace_period: epochs every trial runs before ASHA may stop it.
        reduction_factor: ASHA keeps 1 / reduction_factor of the trials at each rung.
    """

    name: str = "asha"
    grace_period: int = 1
    reduction_factor: int = 2


@dataclasses.dataclass(frozen=True)
class ResourcesSpec:
    """Resources of one trial (Ray's `tune.with_resources`).

    Args:
        cpus_per_trial: CPUs (also the trial's thread limit).
        gpus_per_trial: GPUs; fractions let several trials share one GPU.
    """

    cpus_per_trial: int = 1
    gpus_per_trial: float = 0.0


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One searched parameter.

    Args:
        name: dotted experiment-config key (see the module docstring).
        distribution: one of `DISTRIBUTIONS`.
        values: the choice list, or `[low, high]`.
    """

    name: str
    distribution: str
    values: tuple


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A validated sweep specification (see the module docstring).

    Args:
        dataset: the data source.
        experiment: the experiment every trial starts from (plain data, as in YAML).
        metric: reported metric to optimise (`val_dice`, `val_loss`, ...).
        mode: `"max"` or `"min"`.
        space: the searched parameters.
        search: the search algorithm.
        scheduler: the trial scheduler.
        resources: resources per trial.
        max_failures: restarts of a crashed trial from its last checkpoint.
        source: the spec file.
    """

    dataset: DatasetSpec
    experiment: dict
    metric: str
    mode: str
    space: tuple
    search: SearchSpec
    scheduler: SchedulerSpec
    resources: ResourcesSpec
    max_failures: int
    source: str

    @property
    def max_epochs(self):
        """Epochs of a trial that no scheduler stops."""
        return self.experiment_config().training.epochs

    def experiment_config(self, params=None, data_path="unset.npz", out_dir="unset"):
        """The `ExperimentConfig` of a trial with `params` (`{name: value}`)."""
        data = apply_params(self.experiment, params or {})
        data.setdefault("data", {})["path"] = str(data_path)
        data.setdefault("output", {})["dir"] = str(out_dir)
        return build_dataclass(ExperimentConfig, data, f"{self.source}: experiment")


#: Top-level keys of a spec and whether they are required.
SPEC_KEYS = {
    "dataset": True,
    "experiment": True,
    "metric": False,
    "mode": False,
    "space": True,
    "search": False,
    "scheduler": False,
    "resources": False,
    "max_failures": False,
    "quick": False,
}


def deep_merge(base, update):
    """`base` with `update` merged in: mappings merge key by key, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_params(experiment, params):
    """The experiment mapping with trial parameters (`{dotted name: value}`) set.

    `model.placement.<level>` parameters together replace the placement by a mapping
    `{level: type}`; `model.conditioning_options.<option>` set one layer option.
    """
    data = copy.deepcopy(experiment)
    levels = {}
    for name, value in params.items():
        keys = name.split(".")
        if keys[:2] == ["model", "placement"] and len(keys) == 3:
            levels[keys[2]] = value
            continue
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    if levels:
        data.setdefault("model", {})["placement"] = levels
    return data


def _check_choice(value, allowed, where):
    if value not in allowed:
        raise InputError(f"got {value!r}; allowed: {', '.join(map(str, allowed))}", where)


def _parameter(name, entry, where):
    where = f"{where}: space.{name}"
    if not isinstance(entry, dict) or len(entry) != 1:
        raise InputError(
            f"expected one distribution, e.g. {{choice: [...]}}; got {entry!r}; "
            f"distributions: {', '.join(DISTRIBUTIONS)}",
            where,
        )
    ((distribution, values),) = entry.items()
    _check_choice(distribution, DISTRIBUTIONS, where)
    if not isinstance(values, list) or not values:
        raise InputError(f"{distribution} needs a non-empty list, got {values!r}", where)
    if distribution in ("uniform", "loguniform", "randint"):
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if len(values) != 2 or not numbers or values[0] >= values[1]:
            raise InputError(
                f"{distribution} needs [low, high] with low < high, got {values}", where
            )
        if distribution == "loguniform" and values[0] <= 0:
            raise InputError(f"loguniform needs low > 0, got {values[0]}", where)
        if distribution == "randint" and not all(isinstance(v, int) for v in values):
            raise InputError(f"randint needs integer bounds, got {values}", where)
    return Parameter(name, distribution, tuple(values))


def _searchable_names():
    """`{section: [keys]}` of experiment keys a parameter may name directly."""
    sections = {}
    for field in dataclasses.fields(ExperimentConfig):
        if field.name == "output":
            continue
        keys = [f.name for f in dataclasses.fields(field.type)]
        sections[field.name] = [k for k in keys if f"{field.name}.{k}" not in RESERVED_KEYS]
    return sections


def _check_parameter_name(parameter, spec, where):
    """Raise InputError unless `parameter.name` names something a trial can set."""
    from inside_keras.models.conditioning import CONDITIONING_LAYERS, CONDITIONING_NAMES
    from inside_keras.models.placement import level_names

    keys = parameter.name.split(".")
    where = f"{where}: space.{parameter.name}"
    sections = _searchable_names()
    if keys[:2] == ["model", "conditioning_options"] and len(keys) == 3:
        accepted = _conditioning_options(CONDITIONING_LAYERS)
        _check_choice(keys[2], sorted(accepted), where)
        return
    if keys[:2] == ["model", "placement"] and len(keys) == 3:
        depth = spec.experiment_config().model.depth
        _check_choice(keys[2], level_names(depth), where)
        for value in parameter.values:
            _check_choice(value, CONDITIONING_NAMES, where)
        return
    if len(keys) != 2 or keys[0] not in sections or keys[1] not in sections[keys[0]]:
        known = [f"{s}.{k}" for s, names in sections.items() for k in names]
        raise InputError(
            "unknown parameter; known: "
            + ", ".join(known)
            + ", model.conditioning_options.<option>, model.placement.<level>",
            where,
        )


def _conditioning_options(layers):
    """`{option: [layer classes accepting it]}` over every conditioning layer."""
    from inside_keras.models.conditioning import accepted_options

    accepted = {}
    for layer in layers.values():
        for name in accepted_options(layer):
            accepted.setdefault(name, []).append(layer)
    return accepted


def _check_parameter_values(parameter, spec, where):
    """Build a config (and, for layer options, a layer) with each value of a choice."""
    from inside_keras.models.conditioning import CONDITIONING_LAYERS

    where = f"{where}: space.{parameter.name}"
    samples = parameter.values if parameter.distribution in ("choice", "grid") else ()
    keys = parameter.name.split(".")
    for value in samples:
        try:
            spec.experiment_config({parameter.name: value})
        except InputError as error:
            raise InputError(f"value {value!r}: {error.message}", where) from None
        if keys[:2] == ["model", "conditioning_options"]:
            for layer in _conditioning_options(CONDITIONING_LAYERS)[keys[2]]:
                try:
                    layer(**{keys[2]: value})
                except (TypeError, ValueError) as error:
                    raise InputError(f"value {value!r}: {error}", where) from None


def _resolve_dataset(data, spec_path):
    dataset = build_dataclass(DatasetSpec, data, f"{spec_path}: dataset")
    if (dataset.path is None) == (dataset.generate is None):
        raise InputError(
            "give exactly one of path: FILE.npz or generate: {...}", f"{spec_path}: dataset"
        )
    if dataset.generate is not None:
        where = f"{spec_path}: dataset.generate"
        _check_choice(dataset.generate.dataset, GENERATED_DATASETS, f"{where}.dataset")
        try:
            dataset.generate.data_settings()
        except InputError as error:
            raise InputError(error.message, f"{where}.{error.source}") from None
        return dataset
    path = Path(dataset.path)
    if not path.is_absolute():
        path = Path(spec_path).parent / path
    return dataclasses.replace(dataset, path=str(path))


def parse_spec(data, spec_path):
    """Validate a spec mapping (already read from YAML) into a `SweepSpec`.

    Args:
        data: the spec as plain data (its `quick` section is not applied here).
        spec_path: the spec file, for messages and relative paths.

    Raises:
        InputError: unknown or missing keys, wrong types, an unknown parameter name,
            an empty choice list, a value the config or a layer rejects.
    """
    where = str(spec_path)
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of {', '.join(SPEC_KEYS)}, got {data!r}", where)
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; known keys: {sorted(SPEC_KEYS)}", where)
    missing = [key for key, required in SPEC_KEYS.items() if required and key not in data]
    if missing:
        raise InputError(f"missing key(s) {missing}", where)
    if not isinstance(data["space"], dict) or not data["space"]:
        raise InputError(
            f"space must map parameter names to distributions, got {data['space']!r}", where
        )
    if not isinstance(data["experiment"], dict):
        raise InputError(
            f"expected an experiment config mapping, got {data['experiment']!r}",
            f"{where}: experiment",
        )
    mode = data.get("mode", "max")
    _check_choice(mode, ("max", "min"), f"{where}: mode")
    max_failures = data.get("max_failures", 2)
    if not isinstance(max_failures, int) or isinstance(max_failures, bool) or max_failures < 0:
        raise InputError(
            f"expected a non-negative integer, got {max_failures!r}", f"{where}: max_failures"
        )
    spec = SweepSpec(
        dataset=_resolve_dataset(data["dataset"], spec_path),
        experiment=copy.deepcopy(data["experiment"]),
        metric=data.get("metric", "val_dice"),
        mode=mode,
        space=tuple(_parameter(name, entry, where) for name, entry in data["space"].items()),
        search=build_dataclass(SearchSpec, data.get("search"), f"{where}: search"),
        scheduler=build_dataclass(SchedulerSpec, data.get("scheduler"), f"{where}: scheduler"),
        resources=build_dataclass(ResourcesSpec, data.get("resources"), f"{where}: resources"),
        max_failures=max_failures,
        source=where,
    )
    check_spec(spec)
    return spec


def check_spec(spec):
    """Cross-field checks of a `SweepSpec`; raises InputError naming the field."""
    where = spec.source
    spec.experiment_config()  # the base experiment must itself be valid
    for key in RESERVED_KEYS:
        section, name = key.split(".")
        if name in (spec.experiment.get(section) or {}):
            raise InputError(
                "is set by the sweep; remove it from the spec", f"{where}: experiment.{key}"
            )
    _check_choice(spec.search.algorithm, ALGORITHMS, f"{where}: search.algorithm")
    _check_choice(spec.scheduler.name, SCHEDULERS, f"{where}: scheduler.name")
    _positive(spec.search.num_samples, f"{where}: search.num_samples")
    _positive(spec.scheduler.grace_period, f"{where}: scheduler.grace_period")
    if spec.scheduler.reduction_factor < 2:
        raise InputError(
            f"must be at least 2, got {spec.scheduler.reduction_factor}",
            f"{where}: scheduler.reduction_factor",
        )
    check_resources(spec.resources, where)
    if spec.metric not in ("loss", "val_loss", "dice", "val_dice") and not spec.metric.startswith(
        ("dice_", "val_dice_")
    ):
        raise InputError(
            f"got {spec.metric!r}; allowed: val_dice, val_loss, dice, loss, val_dice_<class>",
            f"{where}: metric",
        )
    names = [p.name for p in spec.space]
    if any(n.startswith("model.placement.") for n in names) and "model.placement" in names:
        raise InputError(
            "search model.placement or model.placement.<level>, not both", f"{where}: space"
        )
    if spec.search.algorithm == "optuna" and any(p.distribution == "grid" for p in spec.space):
        raise InputError(
            "optuna cannot search grid axes; use choice, or algorithm: random",
            f"{where}: search.algorithm",
        )
    for parameter in spec.space:
        _check_parameter_name(parameter, spec, where)
        _check_parameter_values(parameter, spec, where)


def _positive(value, where):
    if value < 1:
        raise InputError(f"must be at least 1, got {value}", where)


def check_resources(resources, where):
    """Positive CPUs and non-negative GPUs per trial (fractions of one GPU, or whole GPUs)."""
    _positive(resources.cpus_per_trial, f"{where}: resources.cpus_per_trial")
    gpus = resources.gpus_per_trial
    if gpus < 0 or (gpus > 1 and gpus != int(gpus)):
        raise InputError(
            f"must be a fraction in [0, 1] or a whole number, got {gpus}",
            f"{where}: resources.gpus_per_trial",
        )


def load_spec(path, quick=False, overrides=None):
    """Read and validate a sweep spec file.

    Args:
        path: the YAML file.
        quick: apply the spec's `quick` section.
        overrides: a mapping merged over the spec last (command-line options).

    Raises:
        InputError: the file is missing, not YAML, or fails validation.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such sweep spec file", path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"not valid YAML ({error})".replace("\n", " "), path) from None
    if isinstance(data, dict):
        if quick:
            data = deep_merge(data, data.get("quick") or {})
        data = deep_merge(data, overrides or {})
    return parse_spec(data, path)
