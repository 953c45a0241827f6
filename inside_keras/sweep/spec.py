"""Sweep specifications: an experiment config, a search space and search settings.

A spec names the experiment every trial starts from (an ordinary experiment config,
`inside_keras.config`, its data section included), what to optimise, the search
space, the search algorithm, the scheduler and the resources:

    experiment:            # an experiment config; `output.dir` is set per trial
      data:
        generate: {dataset: clevr-seg, images: 2000, size: 64}   # or: path: FILE.npz
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
      experiment: {data: {generate: {images: 600, size: 48}}}

Parameter names are the experiment config's dotted names, the same as `--set` takes
(`inside_keras.config.set_dotted`): `section.key`, INSIDE / FiLM / Guide Me options as
`model.conditioning_options.<option>`, and the conditioning type of one U-Net level
as `model.placement.<level>` (e.g. `model.placement.dec0: {choice: [none, film,
inside]}`; the searched levels then make up the placement and the others stay
unconditioned). The data is prepared once for all trials, so `data.*` and
`output.*` are not searchable. Each parameter has one distribution: `choice` /
`grid` (a non-empty list), `uniform` / `loguniform` (`[low, high]`) or `randint`
(`[low, high)`, integers). Every choice value is checked against the config's types
and ranges and the conditioning layers' own argument checks before Ray starts.
"""

import copy
import dataclasses
import math

from pydantic import StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from inside_keras.config import (
    SECTION,
    Float,
    apply_overrides,
    build_config,
    build_dataclass,
    check_at_least,
    check_choice,
    check_seed,
    read_yaml_mapping,
    set_dotted,
)
from inside_keras.errors import InputError

#: Distributions a parameter may be drawn from.
DISTRIBUTIONS = ("choice", "grid", "uniform", "loguniform", "randint")
#: Search algorithms (`random` also expands `grid` axes; `optuna` is TPE).
ALGORITHMS = ("random", "optuna")
#: Trial schedulers.
SCHEDULERS = ("asha", "fifo")
#: Experiment sections a sweep sets itself (the data, prepared once; each trial's
#: output folder) and so may not search.
RESERVED_SECTIONS = ("data", "output")


@dataclass(frozen=True, config=SECTION)
class SearchSpec:
    """How trials are drawn.

    Args:
        algorithm: `"random"` (random sampling, `grid` axes crossed) or `"optuna"` (TPE).
        num_samples: samples drawn (with `grid` axes: samples per grid point).
        seed: the search's random seed.
        max_concurrent: trials running at once (0: as many as resources allow).
    """

    algorithm: StrictStr = "random"
    num_samples: StrictInt = 8
    seed: StrictInt = 0
    max_concurrent: StrictInt = 0


@dataclass(frozen=True, config=SECTION)
class SchedulerSpec:
    """Which trials run to the end.

    Args:
        name: `"asha"` (asynchronous successive halving on epochs) or `"fifo"` (all run).
        grace_period: epochs every trial runs before ASHA may stop it.
        reduction_factor: ASHA keeps 1 / reduction_factor of the trials at each rung.
    """

    name: StrictStr = "asha"
    grace_period: StrictInt = 1
    reduction_factor: StrictInt = 2


@dataclass(frozen=True, config=SECTION)
class ResourcesSpec:
    """Resources of one trial (Ray's `tune.with_resources`).

    Args:
        cpus_per_trial: CPUs (also the trial's thread limit).
        gpus_per_trial: GPUs; fractions let several trials share one GPU.
    """

    cpus_per_trial: StrictInt = 1
    gpus_per_trial: Float = 0.0


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

    def experiment_config(self, params=None, out_dir="unset"):
        """The `ExperimentConfig` of a trial with `params` (`{dotted name: value}`)."""
        data = copy.deepcopy(self.experiment)
        for name, value in (params or {}).items():
            set_dotted(data, name, value, where=f"{self.source}: space.{name}")
        data.setdefault("output", {})["dir"] = str(out_dir)
        return build_config(data, f"{self.source}: experiment")


#: Top-level keys of a spec and whether they are required.
SPEC_KEYS = {
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


def _parameter(name, entry, where):
    where = f"{where}: space.{name}"
    if not isinstance(entry, dict) or len(entry) != 1:
        raise InputError(
            f"expected one distribution, e.g. {{choice: [...]}}; got {entry!r}; "
            f"distributions: {', '.join(DISTRIBUTIONS)}",
            where,
        )
    ((distribution, values),) = entry.items()
    check_choice(distribution, DISTRIBUTIONS, where)
    if not isinstance(values, list) or not values:
        raise InputError(f"{distribution} needs a non-empty list, got {values!r}", where)
    if distribution in ("uniform", "loguniform", "randint"):
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        )
        if len(values) != 2 or not numbers or values[0] >= values[1]:
            raise InputError(
                f"{distribution} needs finite [low, high] with low < high, got {values}", where
            )
        if distribution == "loguniform" and values[0] <= 0:
            raise InputError(f"loguniform needs low > 0, got {values[0]}", where)
        if distribution == "randint" and not all(isinstance(v, int) for v in values):
            raise InputError(f"randint needs integer bounds, got {values}", where)
    return Parameter(name, distribution, tuple(values))


def _check_parameter_name(parameter, spec, where):
    """Raise InputError unless `parameter.name` names something a trial can set."""
    from inside_keras.models.conditioning import CONDITIONING_LAYERS, CONDITIONING_NAMES
    from inside_keras.models.placement import level_names

    keys = parameter.name.split(".")
    where = f"{where}: space.{parameter.name}"
    if keys[0] in RESERVED_SECTIONS:
        raise InputError(
            f"{keys[0]}.* is set by the sweep, not searched; searchable sections: model, training",
            where,
        )
    set_dotted(copy.deepcopy(spec.experiment), parameter.name, parameter.values[0], where=where)
    if keys[:2] == ["model", "conditioning_options"]:
        accepted = _conditioning_options(CONDITIONING_LAYERS)
        check_choice(keys[2], sorted(accepted), where)
    elif keys[:2] == ["model", "placement"] and len(keys) == 3:
        depth = spec.experiment_config().model.depth
        check_choice(keys[2], level_names(depth), where)
        for value in parameter.values:
            check_choice(value, CONDITIONING_NAMES, where)


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
    check_choice(mode, ("max", "min"), f"{where}: mode")
    max_failures = data.get("max_failures", 2)
    if not isinstance(max_failures, int) or isinstance(max_failures, bool) or max_failures < 0:
        raise InputError(
            f"expected a non-negative integer, got {max_failures!r}", f"{where}: max_failures"
        )
    spec = SweepSpec(
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
    data = spec.experiment_config().data  # the base experiment must itself be valid
    if "output" in spec.experiment:
        raise InputError(
            "is set by the sweep (one folder per trial); remove it from the spec",
            f"{where}: experiment.output",
        )
    if data.path is None and data.generate is None:
        raise InputError("give path: FILE.npz or generate: {...}", f"{where}: experiment.data")
    check_choice(spec.search.algorithm, ALGORITHMS, f"{where}: search.algorithm")
    check_choice(spec.scheduler.name, SCHEDULERS, f"{where}: scheduler.name")
    check_at_least(spec.search.num_samples, 1, f"{where}: search.num_samples")
    check_at_least(spec.search.max_concurrent, 0, f"{where}: search.max_concurrent")
    check_seed(spec.search.seed, f"{where}: search.seed")
    check_at_least(spec.scheduler.grace_period, 1, f"{where}: scheduler.grace_period")
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
            f"got {spec.metric!r}; allowed: val_dice, val_loss, dice, loss, val_dice_soft, "
            "val_dice_<class>",
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


def check_resources(resources, where):
    """Positive CPUs and non-negative GPUs per trial (fractions of one GPU, or whole GPUs)."""
    check_at_least(resources.cpus_per_trial, 1, f"{where}: resources.cpus_per_trial")
    gpus = resources.gpus_per_trial
    if gpus < 0 or (gpus > 1 and gpus != int(gpus)):
        raise InputError(
            f"must be a fraction in [0, 1] or a whole number, got {gpus}",
            f"{where}: resources.gpus_per_trial",
        )


def load_spec(path, quick=False, overrides=None, settings=()):
    """Read and validate a sweep spec file.

    Args:
        path: the YAML file.
        quick: apply the spec's `quick` section.
        overrides: a mapping merged over the spec last (command-line options).
        settings: `section.key=value` overrides of the experiment (`--set`), applied
            after the `quick` section.

    Raises:
        InputError: the file is missing, not YAML, or fails validation.
    """
    data = read_yaml_mapping(path, "sweep spec file")
    if quick:
        data = deep_merge(data, data.get("quick") or {})
    data = deep_merge(data, overrides or {})
    if settings:
        data["experiment"] = apply_overrides(data.get("experiment") or {}, settings)
    return parse_spec(data, path)
