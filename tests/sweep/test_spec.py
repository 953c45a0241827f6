"""Sweep specs: the shipped ones load; every kind of bad spec is one clear error."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from inside_keras.cli import main
from inside_keras.errors import InputError
from inside_keras.sweep.spec import load_spec, parse_spec
from tests.sweep.specs import SMALL_SPEC, write_spec

SEARCH = Path(__file__).resolve().parents[2] / "search"


@pytest.mark.parametrize("name", ["clevr_seg.yaml", "acdc.yaml"])
@pytest.mark.parametrize("quick", [False, True])
def test_shipped_specs_load(name, quick):
    spec = load_spec(SEARCH / name, quick=quick)
    names = {p.name for p in spec.space}
    assert "model.placement" in names
    for option in ("sigma_scale", "sigma_relative", "sigma_penalty", "kernel", "isotropic"):
        assert f"model.conditioning_options.{option}" in names
    assert spec.experiment_config().model.architecture == "unet"
    if quick:
        assert spec.resources.gpus_per_trial == 0
        assert spec.max_epochs <= 8


def test_quick_section_and_overrides_merge(tmp_path):
    spec_path = write_spec(
        tmp_path,
        tmp_path / "d.npz",
        {"quick": {"search": {"num_samples": 5}, "experiment": {"training": {"epochs": 2}}}},
    )
    assert load_spec(spec_path).search.num_samples == 1
    quick = load_spec(spec_path, quick=True)
    assert (quick.search.num_samples, quick.max_epochs) == (5, 2)
    assert quick.experiment_config().model.depth == 2  # kept from the base
    overridden = load_spec(spec_path, quick=True, overrides={"search": {"num_samples": 7}})
    assert overridden.search.num_samples == 7
    settings = ["training.epochs=4", "model.conditioning_options.sigma_scale=0.5"]
    overridden = load_spec(spec_path, quick=True, settings=settings)
    assert overridden.max_epochs == 4
    assert overridden.experiment_config().model.conditioning_options == {"sigma_scale": 0.5}


def test_trial_config_from_params():
    spec = parse_spec(copy.deepcopy(SMALL_SPEC), "spec.yaml")
    config = spec.experiment_config(
        {"model.placement": "all", "model.conditioning_options.kernel": "laplace"}, "out"
    )
    assert config.model.placement == "all"
    assert config.model.conditioning_options == {"kernel": "laplace"}
    assert (config.data.path, config.output.dir, config.model.depth) == ("data.npz", "out", 2)


def test_per_level_types_make_the_placement():
    spec = parse_spec(copy.deepcopy(SMALL_SPEC), "spec.yaml")
    config = spec.experiment_config(
        {"model.placement.enc0": "film", "model.placement.dec0": "inside"}
    )
    assert config.model.placement == {"enc0": "film", "dec0": "inside"}


def _error(changes, delete=()):
    data = copy.deepcopy(SMALL_SPEC)
    for key in delete:
        del data[key]
    for key, value in changes.items():
        data[key] = value
    with pytest.raises(InputError) as error:
        parse_spec(data, "spec.yaml")
    return str(error.value)


def test_unknown_parameter_name_lists_the_known_ones():
    message = _error({"space": {"model.sigma": {"choice": [1, 2]}}})
    assert "space.model.sigma: no key 'sigma' in model; known keys:" in message
    assert "'base_filters'" in message and "'conditioning_options'" in message
    message = _error({"space": {"data.generate.size": {"choice": [1, 2]}}})
    assert "data.* is set by the sweep, not searched" in message


def test_unknown_layer_option_and_level():
    message = _error({"space": {"model.conditioning_options.width": {"choice": [1]}}})
    assert "got 'width'" in message and "sigma_scale" in message
    message = _error({"space": {"model.placement.enc7": {"choice": ["inside"]}}})
    assert "got 'enc7'" in message and "bottleneck" in message


def test_empty_choice_list():
    message = _error({"space": {"model.conditioning_options.kernel": {"choice": []}}})
    assert "choice needs a non-empty list" in message


@pytest.mark.parametrize(
    "entry, expected",
    [
        ({"normal": [0, 1]}, "allowed: choice, grid, uniform, loguniform, randint"),
        ({"loguniform": [0, 1]}, "loguniform needs low > 0"),
        ({"uniform": [2, 1]}, "low < high"),
        ({"choice": [1], "grid": [2]}, "expected one distribution"),
    ],
)
def test_bad_distributions(entry, expected):
    assert expected in _error({"space": {"training.learning_rate": entry}})


def test_values_are_checked_by_the_config_and_the_layers():
    message = _error({"space": {"model.conditioning_options.kernel": {"choice": ["box"]}}})
    assert "value 'box'" in message and "gaussian" in message
    message = _error({"space": {"training.epochs": {"choice": ["many"]}}})
    assert "value 'many'" in message and "expected int" in message


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"search": {"algorithm": "bayes"}}, "allowed: random, optuna"),
        ({"search": {"algorithm": "optuna"}}, "optuna cannot search grid axes"),
        ({"scheduler": {"name": "pbt"}}, "allowed: asha, fifo"),
        ({"mode": "best"}, "allowed: max, min"),
        ({"metric": "accuracy"}, "allowed: val_dice"),
        ({"resources": {"gpus_per_trial": 1.5}}, "fraction in [0, 1] or a whole number"),
        ({"resources": {"cpus": 2}}, "unknown key(s) ['cpus']"),
        ({"experiment": {"output": {"dir": "x"}}}, "is set by the sweep"),
        ({"experiment": {"model": {}}}, "experiment.data: give path: FILE.npz or generate"),
        (
            {"experiment": {"data": {"generate": {"dataset": "mnist"}}}},
            "allowed: clevr-seg, acdc",
        ),
        (
            {"experiment": {"data": {"generate": {"dataset": "acdc", "spacing": 0}}}},
            "experiment.data.generate.spacing: must be a positive finite number, got 0.0",
        ),
        (
            {"experiment": {"data": {"generate": {"images": -5}}}},
            "experiment.data.generate.images: must be at least 1",
        ),
        ({"dataset": {"path": "x.npz"}}, "unknown key(s) ['dataset']"),
    ],
)
def test_bad_specs(changes, expected):
    assert expected in _error(changes)


def test_placement_and_per_level_together():
    space = dict(SMALL_SPEC["space"], **{"model.placement.enc0": {"choice": ["film"]}})
    assert "not both" in _error({"space": space})


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"space": {"model.kernel": {"choice": ["gaussian"]}}}, "no key 'kernel' in model"),
        ({"space": {"training.learning_rate": {"choice": []}}}, "non-empty list"),
    ],
)
def test_cli_bad_spec_exit_code_2_one_line(tmp_path, capsys, changes, expected):
    spec = SMALL_SPEC | changes
    spec_path = write_spec(tmp_path, tmp_path / "d.npz", spec=spec)
    assert main(["sweep", str(spec_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "spec.yaml" in err
    assert not (tmp_path / "out").exists()


def test_cli_missing_spec(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.yaml")]) == 2
    assert "no such sweep spec file" in capsys.readouterr().err


def test_cli_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    spec_path = write_spec(tmp_path, tmp_path / "d.npz")
    assert main(["sweep", str(spec_path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "inside-keras sweep: error: Ray Tune is not installed; pip install 'inside-keras[tune]'\n"
    )
    assert not (tmp_path / "out").exists()


def test_no_module_of_the_package_imports_ray():
    """Ray is optional (the `tune` extra): importing any module must not need it."""
    code = (
        "import importlib, pkgutil, sys, inside_keras\n"
        "for module in pkgutil.walk_packages(inside_keras.__path__, 'inside_keras.'):\n"
        "    if module.name != 'inside_keras.__main__':\n"
        "        importlib.import_module(module.name)\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert result.stdout.strip() == "[]"


def test_resume_refuses_another_spec_or_data(tmp_path):
    from inside_keras.sweep.runner import FINGERPRINT_FILE, check_fingerprint, fingerprint

    data = tmp_path / "d.npz"
    data.write_bytes(b"prepared arrays")
    spec = load_spec(write_spec(tmp_path, data))
    value = fingerprint(spec, data)
    check_fingerprint(tmp_path, value, resume=False)
    assert (tmp_path / FINGERPRINT_FILE).is_file()
    check_fingerprint(tmp_path, fingerprint(spec, data), resume=True)  # the same: fine
    more = load_spec(write_spec(tmp_path, data, {"experiment": {"training": {"epochs": 4}}}))
    with pytest.raises(InputError, match="the spec or the data differ"):
        check_fingerprint(tmp_path, fingerprint(more, data), resume=True)
    data.write_bytes(b"other arrays")
    with pytest.raises(InputError, match="the spec or the data differ"):
        check_fingerprint(tmp_path, fingerprint(spec, data), resume=True)
    cpus = load_spec(write_spec(tmp_path, tmp_path / "d.npz", {"resources": {"cpus_per_trial": 2}}))
    data.write_bytes(b"prepared arrays")
    check_fingerprint(tmp_path, fingerprint(cpus, data), resume=True)  # resources may change
