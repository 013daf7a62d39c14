"""Content-addressed file store: originals are named by SHA-256 and never modified.

Backends sit behind one interface (`BlobStore`) and are picked by one factory
(`make_file_store`, setting TAXASSIST_FILE_STORE). The only backend today is `local`, a
directory that may be a shared path (NFS-style) mounted by several hosts: every write goes
to a uniquely named temp file on the same file system, is fsynced, and reaches its final
name by `os.link` (fails if the name exists, so exactly one writer "creates" a blob) with
`os.replace` as the fallback; no in-process lock is relied on. An S3-compatible backend is
not built: no real S3-compatible server installs here to test it against (README,
"Scaling out").
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from assistant.errors import InvalidInput, NotFound, PayloadTooLarge
from assistant.fsutil import fsync_path

_CHUNK = 1024 * 1024
#: Temp files older than this are leftovers of a crashed upload; younger ones may be another
#: host's upload in progress on a shared store, so start-up never clears the whole tmp dir.
STALE_TMP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StagedFile:
    """An upload written to a temporary file, measured and hashed, not yet in the store."""

    path: Path
    sha256: str
    size: int


class BlobStore(Protocol):
    """What the application needs from a content-addressed store of originals."""

    def path_for(self, sha256: str) -> Path:
        """A local path the blob can be read from."""

    def exists(self, sha256: str) -> bool: ...

    def stage(self, source: IO[bytes], *, max_bytes: int) -> StagedFile:
        """Stream an upload to a temp file, refusing empty or oversize input."""

    def commit(self, staged: StagedFile) -> tuple[Path, bool]:
        """Put a staged file under its name; (path, created by this call)."""

    def put_bytes(self, data: bytes) -> tuple[str, Path, bool]:
        """Store bytes; (sha256, path, created by this call)."""

    def discard(self, sha256: str) -> None:
        """Remove a blob this request created when its database rows were rolled back."""

    def verify(self, sha256: str) -> bool:
        """True when the stored bytes still hash to their name."""

    def clean_tmp(self) -> None:
        """Drop leftovers of uploads interrupted by a crash."""

    def ready(self) -> str | None:
        """None when uploads can be stored now, else a snake_case reason (readiness)."""

    def hashes(self) -> Iterator[str]:
        """The name (SHA-256) of every stored blob, in no set order: what a backup copies."""


def stored_path(store: BlobStore, sha256: str, what: str) -> Path:
    """The readable path of a stored original; 404 `file_missing` naming what was lost (文书,
    录音), so every route that serves an original answers a lost file alike."""
    path = store.path_for(sha256)
    if not path.is_file():
        raise NotFound("file_missing", f"{what}文件缺失，请联系管理员核查存储。")
    return path


class FileStore:
    """The `local` backend: `root/<2 hex>/<sha256>`, temp files under `root/tmp`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def _temp(self) -> tuple[int, Path]:
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix=f"{os.getpid()}-", suffix=".part")
        return fd, Path(name)

    def stage(self, source: IO[bytes], *, max_bytes: int) -> StagedFile:
        """Stream an upload to a temp file, refusing empty or oversize input before storing it."""
        fd, path = self._temp()
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(
                            "file_too_large",
                            f"文件超过大小上限（{max_bytes // (1024 * 1024)} MB）。",
                            details={"max_bytes": max_bytes},
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise InvalidInput("empty_file", "上传的文件为空。")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StagedFile(path=path, sha256=digest.hexdigest(), size=size)

    def _place(self, temp: Path, sha256: str) -> tuple[Path, bool]:
        """Give a fsynced temp file its final name; created is False when it was already there.

        `os.link` refuses an existing name, so of several hosts storing the same blob at once
        exactly one creates it and the others keep theirs out; the blob never appears half
        written because the bytes were complete and synced before the name existed.
        """
        target = self.path_for(sha256)
        try:
            if target.exists():
                return target, False
            target.parent.mkdir(parents=True, exist_ok=True)
            temp.chmod(0o444)
            try:
                os.link(temp, target)
            except FileExistsError:
                return target, False
            except OSError as exc:  # a file system without hard links
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                os.replace(temp, target)  # same content by construction: replacing is harmless
            fsync_path(target.parent)
            return target, True
        finally:
            temp.unlink(missing_ok=True)

    def commit(self, staged: StagedFile) -> tuple[Path, bool]:
        """Move a staged file into place; returns (path, created); an existing blob is kept."""
        return self._place(staged.path, staged.sha256)

    def put_bytes(self, data: bytes) -> tuple[str, Path, bool]:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest, target, False
        fd, path = self._temp()
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        placed, created = self._place(path, digest)
        return digest, placed, created

    def discard(self, sha256: str) -> None:
        """Remove a blob this request created when its database rows were rolled back."""
        self.path_for(sha256).unlink(missing_ok=True)

    def verify(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if not path.is_file():
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def ready(self) -> str | None:
        """The root (often a shared mount) is there and writable: a dropped or read-only mount
        is named before an upload fails on it. Two `stat`-level calls, no write."""
        if not self.tmp_dir.is_dir():
            return "file_store_missing"
        if not os.access(self.tmp_dir, os.W_OK | os.X_OK):  # also EROFS for read-only mounts
            return "file_store_unwritable"
        return None

    def hashes(self) -> Iterator[str]:
        for path in self.root.glob("??/*"):
            name = path.name
            if (
                len(name) == 64
                and name.startswith(path.parent.name)
                and not name.strip("0123456789abcdef")
                and path.is_file()
            ):
                yield name

    def clean_tmp(self, *, older_than: float = STALE_TMP_SECONDS) -> None:
        """Drop temp files older than `older_than` seconds (crash leftovers).

        Younger ones are kept: on a shared store they may be another host's upload in flight.
        """
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - older_than
        for entry in self.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()


#: The one registry of file store backends: setting value -> factory from the settings.
FILE_STORES: dict[str, Callable[[Any], BlobStore]] = {
    "local": lambda settings: FileStore(settings.blobs_dir),
}


def make_file_store(settings: Any) -> BlobStore:
    """The backend TAXASSIST_FILE_STORE names, rooted where TAXASSIST_FILE_STORE_ROOT says."""
    try:
        factory = FILE_STORES[settings.file_store]
    except KeyError:
        raise InvalidInput(
            "unknown_file_store",
            f"未知的文件存储类型：{settings.file_store}（可用：{'、'.join(FILE_STORES)}）",
            details={"file_store": settings.file_store, "available": list(FILE_STORES)},
        ) from None
    return factory(settings)
