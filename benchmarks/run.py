"""Benchmarks of inside-keras: `python benchmarks/run.py [--backend all] [--json FILE]`.

The same as `inside-keras bench` (see BENCHMARKS.md); `--help` lists the options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inside_keras.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
