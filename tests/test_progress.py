"""The stderr progress bar: drawn on terminals only, cleared when a command fails."""

import io

import pytest

from inside_keras.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_draws_on_a_terminal_and_ends_the_line():
    stream = Terminal()
    with ProgressBar("work", stream=stream, width=10, interval=0) as progress:
        for done in range(1, 5):
            progress(done, 4)
    text = stream.getvalue()
    assert text.endswith("\rwork [##########] 4/4\n")
    assert "\rwork [#####.....] 2/4" in text


def test_silent_off_a_terminal_and_clears_on_error():
    quiet = io.StringIO()
    with ProgressBar("work", stream=quiet) as progress:
        progress(1, 2)
        progress(2, 2)
    assert quiet.getvalue() == ""
    stream = Terminal()
    with pytest.raises(RuntimeError), ProgressBar("work", stream=stream, interval=0) as progress:
        progress(1, 3)
        raise RuntimeError("stop")
    assert stream.getvalue().endswith("\r\x1b[K")
