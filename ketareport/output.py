"""Atomic output: a run either writes all its files or none of them.

Files are staged in a hidden temporary directory beside their destination
and moved into place with :func:`os.replace` (atomic on one file system)
only once every file has been produced. A failure before that leaves the
destination exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class StagedOutput:
    """Collect a run's files, then publish them together.

    >>> with StagedOutput(Path("out")) as staged:       # doctest: +SKIP
    ...     staged.path("results.json").write_text("{}")
    ...     staged.publish()
    """

    def __init__(self, destination: Path):
        self.destination = Path(destination)
        self._staging: Path | None = None
        self._published: list[Path] = []

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
        """Move every staged file into the destination; returns their final paths."""
        if self._staging is None:
            raise RuntimeError("StagedOutput used outside its with-block")
        staged = sorted(p for p in self._staging.rglob("*") if p.is_file())
        self.destination.mkdir(parents=True, exist_ok=True)
        for source in staged:
            final = self.destination / source.relative_to(self._staging)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, final)
            self._published.append(final)
        return list(self._published)


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
