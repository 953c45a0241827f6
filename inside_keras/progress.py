"""A one-line progress bar on stderr (no dependency): `label [#####.....] 120/400`.

It draws only on a terminal, so a failing command's stderr stays the one error line
that scripts read; leaving its `with` block by an exception clears the bar's line.
"""

import sys
import time


class ProgressBar:
    """Context manager yielding a callable `progress(done, total)` that redraws one line.

    Args:
        label: text in front of the bar.
        stream: where to draw (default `sys.stderr`); nothing is drawn unless it is a
            terminal.
        width: bar width in characters.
        interval: least seconds between redraws (the last one is always drawn).
    """

    def __init__(self, label, stream=None, width=30, interval=0.1):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.interval = interval
        self.enabled = self.stream.isatty()
        self._last = float("-inf")

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None and self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def __call__(self, done, total):
        now = time.monotonic()
        if not self.enabled or (done < total and now - self._last < self.interval):
            return
        self._last = now
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if done == total else ""
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}{end}")
        self.stream.flush()
