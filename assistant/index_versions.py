"""Published index versions: one index directory shared by many API replicas.

Layout under the index root (settings.index_dir, which may be a shared path):

    index-000007/   manifest.json, statutes.faiss, statutes.ids.json, cases.*, PUBLISHED.json
    CURRENT         "index-000007": the version readers use

A writer fills a hidden staging directory, fsyncs every file, renames it to the next free
`index-<n>` (a rename onto an existing name fails, so two publishers never share a number)
and then replaces `CURRENT` through a temp file and `os.replace`, under an exclusive `flock`
on `.publish.lock` so the pointer only moves forward. A published version is never changed:
the next one starts from hard links of its files and replaces the ones it rewrites. An update
that reads the current version and publishes a changed one (closed cases added by a job) holds
`.update.lock` from the read to the publish, so concurrent updaters queue up.

Readers resolve `CURRENT`, hold a shared `flock` on the version's `.readers` file while they
use it (memory-mapped), and check the pointer with one `stat` per request. Pruning keeps the
newest `keep` versions and any older one a reader still holds (its exclusive lock attempt
fails). A root with no `CURRENT` but a `manifest.json` is the older flat layout: it is read
as it is and becomes the base of the first published version.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from assistant.fsutil import atomic_write, fsync_path

POINTER = "CURRENT"
PUBLISHED = "PUBLISHED.json"
READERS = ".readers"
LOCK = ".publish.lock"
UPDATE_LOCK = ".update.lock"
PREFIX = "index-"
_VERSION = re.compile(rf"^{PREFIX}(\d+)$")
#: The files of the flat (pre-versioning) layout a first version is built from.
FLAT_FILES = (
    "manifest.json",
    "statutes.faiss",
    "statutes.ids.json",
    "cases.faiss",
    "cases.ids.json",
)


@dataclass
class Lease:
    """A reader's hold on one version: a shared flock on its `.readers` file."""

    version: str | None
    directory: Path
    _handle: IO[bytes] | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()  # closing drops the flock
            self._handle = None


@dataclass
class Staging:
    """A version being written; `keep = False` drops it instead of publishing it."""

    directory: Path
    keep: bool = True
    version: str | None = None


class IndexStore:
    """Versions of the retrieval index under one root, with a pointer to the current one."""

    def __init__(self, root: Path, *, keep: int = 3) -> None:
        self.root = Path(root)
        self.keep = max(1, keep)

    # -- reading ---------------------------------------------------------------------------
    def pointer(self) -> str | None:
        """The version `CURRENT` names (None: not published yet, or the flat layout)."""
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if _VERSION.match(name) else None

    def stamp(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of the pointer file (inode, mtime, size) for per-request checks."""
        try:
            st = os.stat(self.root / POINTER)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current_dir(self) -> Path:
        """The directory the index is read from: the current version, else the root (flat)."""
        name = self.pointer()
        return self.root / name if name else self.root

    def versions(self) -> list[str]:
        """Published version names, oldest first."""
        if not self.root.is_dir():
            return []
        found = [
            (int(m.group(1)), p.name) for p in self.root.iterdir() if (m := _VERSION.match(p.name))
        ]
        return [name for _, name in sorted(found)]

    def acquire(self) -> Lease:
        """Hold the current version for reading until `release` (the flat layout needs none)."""
        for _ in range(5):
            name = self.pointer()
            if name is None:
                return Lease(None, self.root)
            directory = self.root / name
            try:
                handle = open(directory / READERS, "rb")  # noqa: SIM115 - held by the lease
            except FileNotFoundError:
                continue  # pruned between reading the pointer and opening: read it again
            fcntl.flock(handle, fcntl.LOCK_SH)
            if (directory / READERS).exists():
                return Lease(name, directory, handle)
            handle.close()
        return Lease(self.pointer(), self.current_dir())

    def published(self, name: str) -> dict[str, object] | None:
        """The PUBLISHED.json record of a version (file sizes), None when unreadable."""
        try:
            data = json.loads((self.root / name / PUBLISHED).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def publishing(self, *, base: Path | None = None) -> Iterator[Staging]:
        """A staging directory to write a new version into, published on a normal exit.

        With `base` (a version, or the flat root) its index files are hard-linked in first, so
        a change rewrites only what it touches (writes go through temp file + rename, which
        never alters a linked file).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Staging(self.root / f".staging-{uuid.uuid4().hex}")
        staging.directory.mkdir()
        try:
            if base is not None:
                self._link_files(Path(base), staging.directory)
            yield staging
            if staging.keep:
                staging.version = self.publish(staging.directory)
        finally:
            shutil.rmtree(staging.directory, ignore_errors=True)

    def _link_files(self, base: Path, target: Path) -> None:
        if base == self.root:
            names = [n for n in FLAT_FILES if (base / n).is_file()]
        else:
            names = [
                p.name for p in base.iterdir() if p.is_file() and p.name not in (READERS, PUBLISHED)
            ]
        for name in names:
            try:
                os.link(base / name, target / name)
            except OSError:
                shutil.copy2(base / name, target / name)

    def publish(self, staging: Path) -> str:
        """Make a fully written directory the current version; returns its name."""
        sizes: dict[str, int] = {}
        for path in sorted(staging.iterdir()):
            if path.is_file():
                fsync_path(path)
                sizes[path.name] = path.stat().st_size
        (staging / READERS).touch()
        with self._publish_lock():
            name = self._claim(staging)
            directory = self.root / name
            record = {
                "version": name,
                "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": sizes,
            }
            atomic_write(directory / PUBLISHED, json.dumps(record, indent=2).encode("utf-8"))
            fsync_path(directory)
            atomic_write(self.root / POINTER, f"{name}\n".encode())
            fsync_path(self.root)
            self.prune()
        return name

    def _claim(self, staging: Path) -> str:
        """Rename `staging` to the next free version name (retried if another host took it)."""
        existing = self.versions()
        number = int(existing[-1][len(PREFIX) :]) + 1 if existing else 1
        while True:
            name = f"{PREFIX}{number:06d}"
            try:
                os.rename(staging, self.root / name)
                return name
            except OSError:  # taken (ENOTEMPTY/EEXIST): try the next number
                if not staging.is_dir():
                    raise
                number += 1

    @contextlib.contextmanager
    def _publish_lock(self) -> Iterator[None]:
        with _exclusive(self.root / LOCK):
            yield

    @contextlib.contextmanager
    def updating(self) -> Iterator[None]:
        """Serialise read-change-publish updates (incremental adds) across processes and hosts.

        Two updaters that both read version N and publish in turn would leave the later
        publisher's older snapshot current; under this lock each one starts from the version
        the previous one published. A separate file from the publish lock, which `publish`
        takes inside it.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.root / UPDATE_LOCK):
            yield

    def prune(self) -> list[str]:
        """Delete versions older than the newest `keep` that no reader holds; returns them."""
        current = self.pointer()
        removed: list[str] = []
        for name in self.versions()[: -self.keep]:
            if name == current:
                continue
            directory = self.root / name
            try:
                handle = open(directory / READERS, "r+b")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()  # a reader still maps it: kept until the next publish
                continue
            trash = self.root / f".trash-{name}-{uuid.uuid4().hex[:8]}"
            os.rename(directory, trash)
            (trash / READERS).unlink(missing_ok=True)  # late readers see it gone
            handle.close()
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(name)
        return removed


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An exclusive `flock` on `path` (made if missing) for the block."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
