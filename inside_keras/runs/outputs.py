"""Where commands write: output folders they own, and safe names inside them.

**One rule for every command.** A command writes only inside its output folder (`--out`,
or its default). It refuses (`InputError`, exit 2) a folder that holds files it did not
write, unless `--overwrite` is given, and even then never deletes or replaces a folder of
the user's. What it wrote it records in a marker file, `.inside-keras.json`
(`MARKER`): the command, the package version, the options that determine the output,
the top-level names it owns and whether it completed. A rerun or `--resume` recognises
its own earlier output by the marker. A command that builds a whole tree (`generate`)
builds it in `.inside-keras-partial/` and moves it into place when complete, so an
interrupted run is rebuilt, never taken for complete. A command that fails (or is
interrupted) before it has produced anything worth resuming leaves the folder as it
found it (`OutputFolder.undone_on_failure`): absent if it was absent, else without the
entries the command added, with the marker it found.

Names taken from data (sample names, patient ids) are reduced to safe file names by
`OutputNames`, which also checks that every path lies inside the folder.
"""

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

from inside_keras import __version__
from inside_keras.errors import InputError
from inside_keras.runs.atomic import write_json
from inside_keras.runs.writable import check_file, check_folder

#: The marker file a command writes into its output folder.
MARKER = ".inside-keras.json"
#: Where a command builds a tree before moving it into its output folder.
PARTIAL = ".inside-keras-partial"
#: Longest file-name stem written.
MAX_STEM = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _shown(names, count=4):
    listed = ", ".join(sorted(names)[:count])
    return listed + (f" and {len(names) - count} more" if len(names) > count else "")


class OutputFolder:
    """The output folder of one command, checked before any work starts.

    Checking writes nothing; `create` makes the folder and its marker when the command
    is about to write.

    Args:
        path: the folder (`--out`).
        command: the command that writes it, e.g. `"train"`, `"generate acdc"`.
        overwrite: write beside files the command did not write (`--overwrite`); files
            of the names it writes are then replaced, folders of the user's never.
        entries: the top-level names the command writes, if known in advance (None:
            any names, e.g. from data).
        flag: the option or config key that named the folder, for messages.

    Attributes:
        earlier: the marker of this command's earlier output in the folder, or None.

    Raises:
        InputError: the path is a file or not writable (`inside_keras.runs.writable`), the
            folder holds files of the user's (without `overwrite`), or a folder of the
            user's where the command writes one.
    """

    def __init__(self, path, command, overwrite=False, entries=None, flag="--out"):
        self.path, self.command, self.entries = Path(path), command, entries
        self.overwrite = overwrite
        self.earlier = None
        check_folder(self.path, flag)
        if not self.path.is_dir():
            return
        marker = self._read_marker()
        if marker is not None and marker.get("command") == command:
            self.earlier = marker
            return
        foreign = [item.name for item in self.path.iterdir() if item.name != MARKER]
        if foreign and not overwrite:
            raise InputError(
                f"holds files that inside-keras {command} did not write ({_shown(foreign)}); "
                "choose a new or empty folder, or pass --overwrite to write beside them",
                path,
            )
        # Names this command writes; a folder of the user's under one is never replaced
        # (nor one named like the build folder, which `build` would remove).
        owned = {*entries, PARTIAL} if entries is not None else set()
        folders = [name for name in foreign if name in owned and (self.path / name).is_dir()]
        if folders:
            raise InputError(
                f"holds folders of yours where inside-keras {command} writes its own "
                f"({_shown(folders)}); move them away or choose another folder",
                path,
            )

    def _read_marker(self):
        marker = self.path / MARKER
        if not marker.is_file():
            return None
        try:
            data = json.loads(marker.read_text(encoding="utf-8")[:100_000])
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @property
    def details(self):
        """The options recorded by this command's earlier output ({} if none)."""
        return (self.earlier or {}).get("details") or {}

    @property
    def complete(self):
        """Whether this command's earlier output completed."""
        return bool((self.earlier or {}).get("complete"))

    def holds_complete(self, details):
        """Whether the folder holds this command's complete output for `details`.

        Raises:
            InputError: it holds a complete output for other options and `overwrite`
                was not given.
        """
        if not self.complete:
            return False
        if self.details == details:
            return True
        if not self.overwrite:
            raise InputError(
                f"holds the output of inside-keras {self.command} for {self.details}, not "
                f"{details}; pass --overwrite to replace it, or choose another folder",
                self.path,
            )
        return False

    def create(self, details=None, complete=False):
        """Make the folder (and parents) and write the marker: this command owns it now.

        Args:
            details: the options that determine the output (JSON-able), recorded so a
                rerun can tell whether its earlier output is the same.
            complete: whether the output is complete.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            write_json(
                self.path / MARKER,
                {
                    "command": self.command,
                    "inside_keras": __version__,
                    "details": details or {},
                    "entries": list(self.entries) if self.entries is not None else None,
                    "complete": complete,
                },
            )
        except OSError as error:
            raise InputError(f"cannot write here ({error.strerror})", self.path) from None
        self.earlier = json.loads((self.path / MARKER).read_text(encoding="utf-8"))

    @contextlib.contextmanager
    def undone_on_failure(self, worth_keeping):
        """Undo this command's writes if the block fails before they are worth keeping.

        On an exception (Ctrl-C included) raised inside the block, unless
        `worth_keeping()` says otherwise, the folder goes back to how the block found
        it: removed if it did not exist, else stripped of the top-level entries that
        appeared in it, with its marker as it was. The exception is raised again. What
        existed before the block (the user's files, an earlier run) is never touched.

        Args:
            worth_keeping: callable telling whether what the command wrote so far is
                worth resuming (e.g. a finished epoch).
        """
        existed = self.path.is_dir()
        before = set(os.listdir(self.path)) if existed else set()
        marker = self.path / MARKER
        old_marker = marker.read_bytes() if marker.is_file() else None
        try:
            yield
        except BaseException:
            if not worth_keeping():
                self._undo(existed, before, old_marker)
            raise

    def _undo(self, existed, before, old_marker):
        if not existed:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for name in set(os.listdir(self.path)) - before:
            item = self.path / name
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
        if old_marker is not None:
            (self.path / MARKER).write_bytes(old_marker)
        self.earlier = self._read_marker() if old_marker is not None else None

    def build(self, details, build):
        """Build this command's tree by `build(partial_folder)` and move it into place.

        The tree is built in `PARTIAL` inside the folder; its top-level names (which
        must be among `entries`) then replace this command's earlier ones, and the marker
        is marked complete last. A build that fails or is interrupted (Ctrl-C) removes
        its partial tree; one killed outright is rebuilt by the next call.

        Args:
            details: the options that determine the tree (see `create`).
            build: callable writing the tree into the folder it is given.
        """
        self.create(details, complete=False)
        partial = self.path / PARTIAL
        shutil.rmtree(partial, ignore_errors=True)  # our own interrupted attempt
        try:
            build(partial)
        except BaseException:  # an error or Ctrl-C: leave nothing half-built behind
            shutil.rmtree(partial, ignore_errors=True)
            raise
        for item in sorted(partial.iterdir()):
            if item.name not in self.entries:
                raise RuntimeError(f"{self.command} built {item.name}, not in {self.entries}")
            target = self.path / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)  # this command's earlier tree (see __init__)
            elif target.exists() or target.is_symlink():
                target.unlink()
            item.rename(target)
        partial.rmdir()
        self.create(details, complete=True)


def claim_file(path, overwrite=False, ours=None, flag="--out"):
    """Check that a command may write the single file `path` (e.g. `prepare --out X.npz`).

    Args:
        path: the file to write.
        overwrite: replace an existing file (`--overwrite`).
        ours: optional predicate telling whether an existing file is this command's own
            earlier output (which may be replaced).
        flag: the option that named the file, for messages.

    Raises:
        InputError: `path` is a folder or not writable (`inside_keras.runs.writable`), or an
            existing file that is not this command's own (without `overwrite`).
    """
    path = Path(path)
    check_file(path, flag)
    if path.exists() and not overwrite and not (ours is not None and ours(path)):
        raise InputError(
            "exists and was not written by this command; choose a new name, or pass "
            "--overwrite to replace it",
            path,
        )


def safe_stem(name):
    """`name` reduced to a file-name stem: path parts joined by `_` (`.` and `..` dropped),
    other unsafe characters `_`, no leading dot; `unnamed` if nothing is left."""
    parts = [part for part in re.split(r"[\\/]+", str(name)) if part not in ("", ".", "..")]
    stem = _UNSAFE.sub("_", "_".join(parts)).lstrip(".")[:MAX_STEM]
    return stem or "unnamed"


class OutputNames:
    """Unique, safe paths inside `folder` for names taken from data.

    Args:
        folder: the output folder.
    """

    def __init__(self, folder):
        self.folder = Path(folder).resolve()
        self.stems = {}

    def stem(self, name, key=None):
        """The safe stem of `name` for the item `key` (default: the name itself): the same
        for the same key, different for different keys."""
        key = str(name) if key is None else key
        if key not in self.stems:
            stem, taken = safe_stem(name), set(self.stems.values())
            unique, count = stem, 1
            while unique in taken:
                count += 1
                unique = f"{stem}_{count}"
            self.stems[key] = unique
        return self.stems[key]

    def path(self, name, suffix, key=None):
        """`folder/<safe stem of name><suffix>` for item `key` (see `stem`); InputError if
        it would leave `folder`."""
        path = (self.folder / f"{self.stem(name, key)}{suffix}").resolve()
        if path.parent != self.folder:
            raise InputError(f"name {str(name)[:60]!r} would write outside the folder", self.folder)
        return path
