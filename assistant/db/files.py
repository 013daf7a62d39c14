"""Content-addressed file store: originals are named by SHA-256 and never modified."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.errors import InvalidInput, PayloadTooLarge

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StagedFile:
    """An upload written to a temporary file, measured and hashed, not yet in the store."""

    path: Path
    sha256: str
    size: int


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def stage(self, source: IO[bytes], *, max_bytes: int) -> StagedFile:
        """Stream an upload to a temp file, refusing empty or oversize input before storing it."""
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
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
            if size == 0:
                raise InvalidInput("empty_file", "上传的文件为空。")
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return StagedFile(path=Path(name), sha256=digest.hexdigest(), size=size)

    def commit(self, staged: StagedFile) -> tuple[Path, bool]:
        """Move a staged file into place; returns (path, created); an existing blob is kept."""
        target = self.path_for(staged.sha256)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return target, False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        target.chmod(0o444)
        return target, True

    def put_bytes(self, data: bytes) -> tuple[str, Path, bool]:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest, target, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(name, target)
        target.chmod(0o444)
        return digest, target, True

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

    def clean_tmp(self) -> None:
        """Drop leftovers of uploads interrupted by a crash."""
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
