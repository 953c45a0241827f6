"""Reproduction specs: one experiment config, the methods' changes to it, an evaluation.

A reproduction trains one experiment config per method and scores each on the test
split in the same way. Its YAML file (the built-in ones are in
`inside_keras/reproduce/configs/`, also reachable as `configs/reproduce/` in a source
checkout) reads:

    evaluation: clevr-seg        # how test predictions are scored: clevr-seg | acdc
    experiment:                  # an experiment config (`inside_keras.config`);
      data: {generate: {dataset: clevr-seg, images: 2000, size: 64}}  # output.dir is
      model: {architecture: encoder_decoder}                            # set per method
      training: {epochs: 10, learning_rate: 0.003, loss: bce_dice}
    methods:                     # method name -> its changes, as dotted names
      baseline: {model.conditioning: none}
      inside: {model.conditioning: inside}

The results table names the methods as the file does (the paper's four are
`baseline`, `film`, `guide_me` and `inside`).
"""

import copy
import dataclasses
from pathlib import Path

from inside_keras.config import apply_overrides, build_config, read_yaml_mapping, set_dotted
from inside_keras.errors import InputError

#: How test predictions can be scored.
EVALUATIONS = ("clevr-seg", "acdc")
#: The folder of the built-in reproduction specs.
BUILT_IN = Path(__file__).parent / "configs"
#: Keys of a reproduction spec.
SPEC_KEYS = ("evaluation", "experiment", "methods")


@dataclasses.dataclass(frozen=True)
class ReproductionSpec:
    """A validated reproduction spec (see the module docstring).

    Args:
        evaluation: one of `EVALUATIONS`.
        experiment: the experiment every method starts from (plain data, as in YAML).
        methods: `{method: {dotted name: value}}`.
        source: the spec file, for messages.
    """

    evaluation: str
    experiment: dict
    methods: dict
    source: str

    def base_config(self):
        """The shared `ExperimentConfig` (output folder unset)."""
        return build_config(self.experiment, f"{self.source}: experiment")

    def method_config(self, method, out_dir):
        """The `ExperimentConfig` of `method`, run in `out_dir/method`."""
        data = copy.deepcopy(self.experiment)
        for name, value in self.methods[method].items():
            set_dotted(data, name, value, where=f"{self.source}: methods.{method}.{name}")
        data["output"] = {"dir": str(Path(out_dir) / method)}
        return build_config(data, f"{self.source}: methods.{method}")


def built_in_spec(dataset, quick):
    """The built-in spec file of `dataset` (`clevr-seg` or `acdc`), quick or full."""
    return BUILT_IN / f"{dataset.replace('-', '_')}_{'quick' if quick else 'full'}.yaml"


def parse_reproduction(data, source):
    """Validate a spec mapping into a `ReproductionSpec`.

    Raises:
        InputError: unknown or missing keys, an unknown evaluation, no methods, a
            method change or experiment the config rejects, or an experiment without data.
    """
    where = str(source)
    unknown = sorted(map(str, set(data) - set(SPEC_KEYS)))
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; known keys: {list(SPEC_KEYS)}", where)
    missing = [key for key in SPEC_KEYS if key not in data]
    if missing:
        raise InputError(f"missing key(s) {missing}", where)
    if data["evaluation"] not in EVALUATIONS:
        raise InputError(
            f"got {data['evaluation']!r}; allowed: {', '.join(EVALUATIONS)}", f"{where}: evaluation"
        )
    methods = data["methods"]
    if not isinstance(methods, dict) or not methods:
        raise InputError("expected a mapping of method name to its changes", f"{where}: methods")
    for method, changes in methods.items():
        if not isinstance(changes, dict):
            raise InputError(
                f"expected a mapping of dotted names to values, got {changes!r}",
                f"{where}: methods.{method}",
            )
    if not isinstance(data["experiment"], dict):
        raise InputError("expected an experiment config mapping", f"{where}: experiment")
    if "output" in data["experiment"]:
        raise InputError(
            "is set per method (<out>/<method>); remove it", f"{where}: experiment.output"
        )
    spec = ReproductionSpec(
        evaluation=data["evaluation"],
        experiment=copy.deepcopy(data["experiment"]),
        methods={str(m): dict(c) for m, c in methods.items()},
        source=where,
    )
    base = spec.base_config()
    if base.data.path is None and base.data.generate is None:
        raise InputError("give path: FILE.npz or generate: {...}", f"{where}: experiment.data")
    for method in spec.methods:
        spec.method_config(method, "unset")
    return spec


def load_reproduction(path, settings=()):
    """Read and validate a reproduction spec file.

    Args:
        path: the YAML file.
        settings: `section.key=value` overrides of the shared experiment (`--set`).
    """
    data = read_yaml_mapping(path, "reproduction spec file")
    if settings:
        data["experiment"] = apply_overrides(data.get("experiment") or {}, settings)
    return parse_reproduction(data, path)
