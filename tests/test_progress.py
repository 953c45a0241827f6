"""The stderr progress bar: the count and rate on a terminal, nothing elsewhere."""

import io

from rich.console import Console

from inside_keras.runs.progress import progress


def console(terminal):
    return Console(file=io.StringIO(), force_terminal=terminal, width=100)


def test_draws_count_and_rate_on_a_terminal():
    terminal = console(True)
    with progress("work", console=terminal) as update:
        for done in range(1, 5):
            update(done, 4)
    text = terminal.file.getvalue()
    assert "work" in text and "4/4" in text and "/s" in text


def test_silent_off_a_terminal(capsys):
    quiet = console(False)
    with progress("work", console=quiet) as update:
        update(1, 2)
        update(2, 2)
    assert quiet.file.getvalue() == ""
    with progress("work") as update:
        update(1, 1)
    assert capsys.readouterr().err == ""
