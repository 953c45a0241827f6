"""MkDocs hooks: the site's links to the repository's files outside `docs/`.

Every page links the way it does on GitHub: relative to the file it is in (a page of
`docs/` to `../configs/clevr_inside.yaml`, `BENCHMARKS.md` to `docs/figures/...`). The
site is built from `docs/` plus these rules, so that such links also work on the site
and `mkdocs build --strict` still fails on a broken one:

- the Markdown files of `PAGES`, outside `docs/`, are pages of the site (BENCHMARKS.md,
  benchmarks/HISTORY.md, data/README.md, CHANGELOG.md), at the address given there;
- a link (or an image) from any page is resolved from the page's real place in the
  repository: into `docs/`, to one of `PAGES`, or to another file git tracks, which is
  then copied into the site at its repository path (a config, a script, raw results),
  so the link serves the file itself;
- a link to anything else (a file that does not exist or that git does not track, a
  folder, a place outside the repository) is a warning, which `--strict` makes an
  error, as MkDocs does for its own broken links and anchors.

Loaded by mkdocs.yml (`hooks:`).
"""

import logging
import os
import posixpath
import subprocess
from urllib.parse import unquote, urlsplit

from markdown import Extension
from markdown.treeprocessors import Treeprocessor
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.repository_links")

#: Markdown files outside docs/ that are pages of the site: repository path -> page.
PAGES = {
    "BENCHMARKS.md": "benchmarks.md",
    "benchmarks/HISTORY.md": "benchmarks/history.md",
    "data/README.md": "obtaining_data.md",
    "CHANGELOG.md": "changelog.md",
}

_state = {"repo": None, "tracked": None, "config": None, "files": None, "page": None}


def _tracked_files(repo):
    """The paths git tracks (symbolic links resolved), or None outside a git checkout."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    real_repo = os.path.realpath(repo)
    tracked = set()
    for name in listing.decode().split("\0"):
        if name:
            tracked.add(os.path.relpath(os.path.realpath(os.path.join(repo, name)), real_repo))
    return tracked


def _is_tracked(path):
    repo, tracked = _state["repo"], _state["tracked"]
    full = os.path.join(repo, path)
    if not os.path.isfile(full):
        return False
    if tracked is None:  # not a git checkout (an unpacked sdist): the file exists
        return True
    return os.path.relpath(os.path.realpath(full), os.path.realpath(repo)) in tracked


def _site_path(path):
    """Where the repository file `path` is on the site (relative to docs/), or None."""
    if path.startswith("docs/"):
        return path[len("docs/") :]
    if path in PAGES:
        return PAGES[path]
    if not _is_tracked(path):
        return None
    files, config = _state["files"], _state["config"]
    if files.get_file_from_path(path) is None:
        full = os.path.join(_state["repo"], path)
        files.append(File.generated(config, path, abs_src_path=full))
    return path


class _RepositoryLinks(Treeprocessor):
    """Rewrites each relative link of the page being rendered (before MkDocs checks it)."""

    def run(self, root):
        page = _state["page"]
        if page is None or page.file.abs_src_path is None:
            return
        here = os.path.dirname(os.path.relpath(page.file.abs_src_path, _state["repo"]))
        page_dir = posixpath.dirname(page.file.src_uri)
        for element in root.iter():
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            url = element.get(attribute) if attribute else None
            if not url:
                continue
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
                continue
            path = posixpath.normpath(posixpath.join(here, unquote(parts.path)))
            if path.startswith("../") or path == "..":
                log.warning(f"{page.file.src_uri}: link to {url!r} leaves the repository")
                continue
            site_path = _site_path(path)
            if site_path is None:
                log.warning(
                    f"{page.file.src_uri}: link to {url!r}: {path} is not a file git tracks"
                )
                continue
            target = posixpath.relpath(site_path, page_dir or ".")
            element.set(attribute, target + (f"#{parts.fragment}" if parts.fragment else ""))


class _RepositoryLinksExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (Markdown's name)
        # Before MkDocs's own "relpath" processor (priority 0), which validates links.
        md.treeprocessors.register(_RepositoryLinks(md), "repository_links", 20)


def on_config(config):
    _state["repo"] = os.path.dirname(os.path.abspath(config.config_file_path))
    _state["tracked"] = _tracked_files(_state["repo"])
    _state["config"] = config
    config.markdown_extensions.append(_RepositoryLinksExtension())
    return config


def on_files(files, config):
    for path, page in PAGES.items():
        full = os.path.join(_state["repo"], path)
        files.append(File.generated(config, page, abs_src_path=full))
    _state["files"] = files
    return files


def on_page_markdown(markdown, page, config, files):
    _state["page"] = page
    return markdown
