"""Atomic output: a run either writes all its files or none of them.

Files are staged in a hidden temporary directory beside their destination
and moved into place with :func:`os.replace` (atomic on one file system)
only once every file has been produced. A failure before that leaves the
destination exactly as it was.

:func:`check_writable` is called before any work starts, so that a folder
that cannot be written fails in a moment, not after the whole analysis.

A manifest (``.ketareport-manifest.json``) in the destination records what
each run wrote, with each file's SHA-256. The next run into the same folder
removes the files the previous manifest lists that it did not write itself
(an old PDF, a ``verification.csv`` from a run with ``--verify``), so that
no stale file sits beside new results as if current; a file the tool did not
write (not listed, or changed since) is never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputNotWritable

MANIFEST = ".ketareport-manifest.json"


def check_writable(destination: Path) -> None:
    """Raise :class:`OutputNotWritable` unless ``destination`` can be created (if need be) and written.

    The staging folder is made beside the destination and the files are then
    moved into it, so both the destination (when it exists) and the folder
    that will hold it must take a new entry. Each is probed by creating and
    removing an empty directory: permission bits alone do not tell (root,
    read-only mounts, /proc).
    """
    destination = Path(destination)
    absolute = destination.absolute()
    if absolute.exists() and not absolute.is_dir():
        raise OutputNotWritable(f"cannot write to {destination}: a file of that name is in the way")
    holder = absolute.parent
    while not holder.exists():
        holder = holder.parent
    if not holder.is_dir():
        raise OutputNotWritable(f"cannot write to {destination}: {holder} is a file, not a folder")
    for folder in (holder, absolute) if absolute.exists() else (holder,):
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".ketareport-probe-", dir=folder))
        except OSError as error:
            raise OutputNotWritable(f"cannot write to {destination}: {error.strerror} ({folder})") from None


class StagedOutput:
    """Collect a run's files, then publish them together.

    >>> with StagedOutput(Path("out")) as staged:       # doctest: +SKIP
    ...     staged.path("results.json").write_text("{}")
    ...     staged.publish()
    """

    def __init__(self, destination: Path, *, manifest: bool = True):
        self.destination = Path(destination)
        self.manifest = manifest
        """Keep the manifest and remove the previous run's stale files (off for a folder the user owns, as init's)."""
        self._staging: Path | None = None
        self._published: list[Path] = []
        self.removed: list[Path] = []
        """Files of the previous run that :meth:`publish` removed as stale."""

    def __enter__(self) -> "StagedOutput":
        parent = self.destination.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._staging = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}-staging-", dir=parent))
        return self

    def __exit__(self, *exc_info) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def path(self, relative: str) -> Path:
        """Where to write ``relative`` (a path inside the destination) for now."""
        if self._staging is None:
            raise RuntimeError("StagedOutput used outside its with-block")
        target = self._staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def folder(self, relative: str = "") -> Path:
        """The staging directory for ``relative`` (created), for a step that writes its own files there."""
        if self._staging is None:
            raise RuntimeError("StagedOutput used outside its with-block")
        target = self._staging / relative
        target.mkdir(parents=True, exist_ok=True)
        return target

    def publish(self) -> list[Path]:
        """Move every staged file into the destination; returns their final paths.

        Then removes what the previous run's manifest lists and this run did
        not write (unchanged since), and records this run's manifest.
        """
        if self._staging is None:
            raise RuntimeError("StagedOutput used outside its with-block")
        staged = sorted(p for p in self._staging.rglob("*") if p.is_file())
        written = {source.relative_to(self._staging).as_posix(): sha256_file(source) for source in staged}
        previous = read_manifest(self.destination) if self.manifest else {}
        self.destination.mkdir(parents=True, exist_ok=True)
        for source in staged:
            final = self.destination / source.relative_to(self._staging)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, final)
            self._published.append(final)
        if self.manifest:
            self.removed = _remove_stale(self.destination, previous, written)
            write_atomic(self.destination / MANIFEST, json.dumps({"files": written}, indent=1, sort_keys=True) + "\n")
        return list(self._published)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, str]:
    """What the last run wrote into ``folder``: relative path -> SHA-256 ({} without a readable manifest)."""
    try:
        files = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {str(name): str(digest) for name, digest in files.items()}


def _remove_stale(folder: Path, previous: dict[str, str], written: dict[str, str]) -> list[Path]:
    """Remove files of the previous run that this run did not write, if they are still what the tool wrote."""
    root = folder.resolve()
    removed = []
    for name in sorted(set(previous) - set(written)):
        path = folder / name
        inside = root in path.resolve().parents
        if not inside or path.is_symlink() or not path.is_file() or sha256_file(path) != previous[name]:
            continue  # not the tool's file any more (moved out, replaced or edited): leave it
        path.unlink()
        removed.append(path)
        for parent in path.parents:  # folders the tool made (figures/) go when they are left empty
            if parent == folder or parent.resolve() == root or any(parent.iterdir()):
                break
            parent.rmdir()
    return removed


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write one file atomically (temporary file in the same directory, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
