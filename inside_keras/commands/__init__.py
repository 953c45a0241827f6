"""Sub-commands of the `inside-keras` command line, one module each."""
