"""What every command's run relies on: output folders it owns (`outputs`), atomic writes,
the files of a run, size and thread limits, progress display and Ctrl-C (`quiet`)."""
