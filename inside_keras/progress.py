"""Progress on stderr through `rich`: label, bar, count, rate and time left.

It draws only when stderr is a terminal, so that a failing command's stderr stays the
one error line that scripts read.
"""

import contextlib
import sys

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


class _Rate(ProgressColumn):
    """Items finished per second."""

    def render(self, task):
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


@contextlib.contextmanager
def progress(label, console=None):
    """Show a progress bar while the block runs.

    Args:
        label: text in front of the bar.
        console: the `rich.console.Console` to draw on; by default one on stderr that
            counts as a terminal only if stderr is one. Nothing is drawn unless
            `console.is_terminal`.

    Yields:
        A callable `update(done, total)`: `done` of `total` items are finished.
    """
    if console is None:
        console = Console(stderr=True, force_terminal=sys.stderr.isatty())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def update(done, total):
            bar.update(task, completed=done, total=total)

        yield update
