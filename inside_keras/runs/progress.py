"""Progress on stderr through `rich`: label, bar, count, rate and time left.

It draws only when stderr is a terminal, so that a failing command's stderr stays the
one error line that scripts read. Without a terminal `rich` is not imported at all: it
would add a tenth of a second to every command's start.
"""

import contextlib
import sys


@contextlib.contextmanager
def progress(label, console=None):
    """Show a progress bar while the block runs.

    Args:
        label: text in front of the bar.
        console: the `rich.console.Console` to draw on; by default one on stderr if
            stderr is a terminal. Nothing is drawn unless `console.is_terminal`.

    Yields:
        A callable `update(done, total)`: `done` of `total` items are finished.
    """
    if console is None and not sys.stderr.isatty():
        yield _draw_nothing
        return
    with _bar(label, console) as update:
        yield update


def _draw_nothing(done, total):
    """The `update` of `progress` without a terminal."""


@contextlib.contextmanager
def _bar(label, console):
    """`progress` on a `rich` console (stderr if `console` is None)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Items finished per second."""

        def render(self, task):
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")

    console = Console(stderr=True) if console is None else console
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
