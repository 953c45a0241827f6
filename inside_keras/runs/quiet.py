"""A command's stderr holds its own lines: library noise is kept out unless `--debug`.

- **Ctrl-C is never lost.** Some libraries run code under a bare `except:` (Keras turns
  logs into floats that way, which on JAX waits for the step to finish), and Python
  itself cannot raise out of a garbage-collection callback or a `__del__` (jaxlib
  registers one: "Exception ignored in: <function _xla_gc_callback>"): a Ctrl-C arriving
  there is swallowed and training goes on. `catching_ctrl_c` records every Ctrl-C
  besides raising `KeyboardInterrupt` as Python does (and keeps a swallowed one from
  printing its traceback); `raise_if_interrupted` raises it again at the next safe point
  (training checks after every batch), and the command line ends with exit code 130
  whatever happened to the first one.
- **Native noise while a backend loads.** TensorFlow writes absl's "All log messages
  before absl::InitializeLog()" and oneDNN's notices from C++ straight to file
  descriptor 2 when it is imported, whatever `TF_CPP_MIN_LOG_LEVEL` says, so no switch of
  the library silences them: `quiet_backend_import` points descriptor 2 at a temporary
  file while `keras` (and the backend it loads) is first imported, wherever in a command
  that happens, and gives it back after; with `--debug` nothing is hidden. A Ctrl-C
  during that import ends the command once the import is whole (interrupted in its
  middle, a backend's native code can abort the process).
- **Python warnings** of libraries (Keras's, NumPy's deprecations) are ignored unless
  `--debug`.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import signal
import sys
import tempfile
import threading
import warnings

_interrupted = threading.Event()


def _on_ctrl_c(signum, frame):
    _interrupted.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def catching_ctrl_c():
    """Record Ctrl-C (SIGINT) while inside, raising `KeyboardInterrupt` as usual.

    Only where Python's own handler is in place: not outside the main thread (which
    cannot set one), nor in a process started with SIGINT ignored (a background job),
    which keeps ignoring it as Python does.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _interrupted.clear()
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    previous_hook = sys.unraisablehook

    def unraisable(info):  # a Ctrl-C swallowed where Python cannot raise: recorded
        if not issubclass(info.exc_type, KeyboardInterrupt):
            previous_hook(info)

    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook


def interrupted():
    """Whether Ctrl-C was pressed inside `catching_ctrl_c`."""
    return _interrupted.is_set()


def raise_if_interrupted():
    """Raise `KeyboardInterrupt` if Ctrl-C was pressed, even if a library swallowed it."""
    if _interrupted.is_set():
        raise KeyboardInterrupt


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds the top-level `keras` package as usual and runs its import with file
    descriptor 2 pointed at a temporary file (see the module docstring)."""

    def __init__(self, name):
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once: the real finders locate the package
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _ctrl_c_deferred(), _descriptor_2_silenced():
            self.loader.exec_module(module)


@contextlib.contextmanager
def _ctrl_c_deferred():
    """Ctrl-C inside is recorded and raised when the block ends, not in its middle.

    A `KeyboardInterrupt` raised while a backend's native extensions initialise can
    leave them half-built, and the process then aborts (SIGABRT) with its message on the
    silenced descriptor: the import is made whole first, then interrupted.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        yield
        return
    pressed = []

    def record(signum, frame):
        _interrupted.set()
        pressed.append(signum)

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _descriptor_2_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def quiet_backend_import():
    """Silence native output while `keras` is first imported, and library warnings."""
    warnings.simplefilter("ignore")
    if "keras" not in sys.modules and not any(
        isinstance(finder, _QuietImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietImport("keras"))
