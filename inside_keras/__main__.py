"""`python -m inside_keras ...` runs the `inside-keras` command line."""

import sys

from inside_keras.cli import main

sys.exit(main())
