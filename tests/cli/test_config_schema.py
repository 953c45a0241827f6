"""`inside-keras info --schema`: the experiment config's JSON schema fits the configs the
repository ships and refuses what the config refuses."""

import copy
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from inside_keras.config import ExperimentConfig, config_to_dict, load_config, set_dotted
from inside_keras.errors import InputError
from tests.runs import CLI

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema():
    """The schema as the installed command prints it."""
    result = subprocess.run(
        [*CLI, "info", "--schema"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    printed = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(printed)
    return printed


def _experiments():
    """`(name, experiment config as plain data)` of every experiment config the
    repository ships: `configs/*.yaml`, each reproduction method's config and each
    sweep spec's base experiment."""
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        yield path.name, yaml.safe_load(path.read_text())
    for path in sorted((ROOT / "inside_keras" / "reproduce" / "configs").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        for method, changes in spec["methods"].items():
            data = copy.deepcopy(spec["experiment"])
            for name, value in changes.items():
                set_dotted(data, name, value)
            data["output"] = {"dir": f"runs/{method}"}
            yield f"reproduce/{path.name}: {method}", data
    for path in sorted((ROOT / "search").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        if "experiment" in spec:  # not the Ray cluster config
            yield f"search/{path.name}: experiment", spec["experiment"]


def test_every_shipped_experiment_config_fits_the_schema(schema):
    experiments = list(_experiments())
    files = {name.split(":")[0] for name, _ in experiments}
    assert len(files) == 5 + 5 + 2, files  # configs/, reproduction specs, sweep specs
    for name, data in experiments:
        try:
            jsonschema.validate(data, schema)
        except jsonschema.ValidationError as error:
            pytest.fail(f"{name}: {error.message} at {list(error.absolute_path)}")


def test_schema_defaults_are_the_config_defaults(schema):
    defaults = config_to_dict(ExperimentConfig())
    for section, reference in schema["properties"].items():
        fields = schema["$defs"][reference["$ref"].split("/")[-1]]["properties"]
        for key, field in fields.items():
            if "default" in field:
                assert field["default"] == defaults[section][key], f"{section}.{key}"
            assert field.get("description"), f"{section}.{key} has no description"


@pytest.mark.parametrize(
    "text",
    [
        "training: {epochs: ten}\n",  # wrong type
        "training: {epochs: true}\n",
        "training: {epoch: 3}\n",  # unknown key
        "trainer: {epochs: 3}\n",  # unknown section
        "training: {epochs: 0}\n",  # out of range
        "training: {learning_rate: 0}\n",
        "training: {seed: 4294967296}\n",
        "model: {dropout: 1.0}\n",
        "training: {precision: float16}\n",  # not one of the choices
        "training: {jit_compile: always}\n",
        "data: {generate: {dataset: mnist}}\n",
        "data: [1]\n",
        "model: {conditioning_options: 3}\n",
    ],
)
def test_a_bad_config_fails_the_schema_as_it_fails_to_load(schema, tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), schema)
    with pytest.raises(InputError):
        load_config(path)
