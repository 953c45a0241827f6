"""Peak resident memory of a piece of work, sampled by a thread.

`ru_maxrss` is a per-process high-water mark that never goes down, so it cannot
tell configurations measured in one process apart. Instead `PeakMemory` returns
freed heap pages to the system (glibc `malloc_trim`), reads the resident set size
(RSS) before the work, samples it every `interval` seconds from a thread while the
work runs, and reports the highest sample minus the starting RSS: the memory the
work allocated on top of what was already resident (activations, gradients,
temporaries; not the weights and optimizer state, which exist before the step).
Backends release the GIL inside their kernels, so the sampler runs during them;
an allocation shorter than the interval can be missed, so this is a lower bound.
"""

import ctypes
import ctypes.util
import os
import resource
import sys
import threading

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM = "/proc/self/statm"


def resident_bytes():
    """Current resident set size of this process in bytes (Linux), else the peak so far."""
    try:
        with open(_STATM, "rb") as stream:
            return int(stream.read().split()[1]) * _PAGE_SIZE
    except OSError:
        # No /proc (macOS): the high-water mark, in bytes on macOS, KiB elsewhere.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _load_libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _load_libc()


def release_free_memory():
    """Return free heap pages to the system where the C library can (glibc)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class PeakMemory:
    """Context manager: `peak_mb`, the highest RSS while inside minus the RSS on entry.

    Args:
        interval: seconds between samples.
        read: what is sampled, a callable returning bytes in use; default the
            resident set size (free heap pages are returned to the system first).

    Example:

    >>> with PeakMemory() as memory:
    ...     work()
    >>> memory.peak_mb
    """

    def __init__(self, interval=0.0005, read=None):
        self.interval = interval
        self.read = read
        self.peak_mb = None
        self._stop = threading.Event()
        self._thread = None
        self._start = 0
        self._peak = 0

    def _sample(self):
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, self._read())

    def _read(self):
        return resident_bytes() if self.read is None else self.read()

    def __enter__(self):
        if self.read is None:
            release_free_memory()
        self._start = self._peak = self._read()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._peak = max(self._peak, self._read())
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self._peak - self._start, 0) / 2**20
        return False
