"""What importing the package costs: the layers and models import nothing beyond Keras.

Each check runs in a fresh interpreter, so modules that other tests imported cannot hide
an import. The command line without its `cli` extra exits 2 with one line saying what to
install.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Prints the modules that importing `{module}` adds to those `import keras` imported.
NEW_MODULES = """
import json, sys
import keras
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""

#: Blocks the `cli` extra's modules that neither Keras nor a backend imports, then runs
#: `train --config FILE`.
WITHOUT_CLI_EXTRA = """
import sys
for name in ("yaml", "PIL", "nibabel", "matplotlib"):
    sys.modules[name] = None  # `import name` now raises ModuleNotFoundError
from inside_keras.cli import main
sys.exit(main(["train", "--config", sys.argv[1]]))
"""


def _python(code, *args):
    """Run `python -c code args` with this checkout first on the path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("inside_keras.layers", ("inside_keras.layers",)),
        ("inside_keras.models", ("inside_keras.layers", "inside_keras.models")),
    ],
)
def test_import_adds_only_layer_and_model_modules(module, allowed):
    result = _python(NEW_MODULES.format(module=module))
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout.strip().splitlines()[-1])
    assert module in added
    others = [
        name
        for name in added
        if name != "inside_keras" and ".".join(name.split(".")[:2]) not in allowed
    ]
    assert others == [], f"import {module} also imports {others}"


def test_cli_without_its_extra_says_what_to_install(tmp_path):
    config = tmp_path / "experiment.yaml"
    config.write_text("data: {}\n")
    result = _python(WITHOUT_CLI_EXTRA, str(config))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'inside-keras[cli]'" in lines[0], lines


#: Blocks pydantic, the experiment config's validation library, then runs
#: `train --config FILE`.
WITHOUT_PYDANTIC = """
import sys
sys.modules["pydantic"] = None  # `import pydantic` now raises ModuleNotFoundError
from inside_keras.cli import main
sys.exit(main(["train", "--config", sys.argv[1]]))
"""


def test_cli_without_pydantic_says_what_to_install(tmp_path):
    config = tmp_path / "experiment.yaml"
    config.write_text("data: {}\n")
    result = _python(WITHOUT_PYDANTIC, str(config))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "(pydantic is not installed)" in lines[0], lines
    assert "pip install 'inside-keras[cli]'" in lines[0]
