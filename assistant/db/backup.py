"""Backup and restore of one installation: the database, the file store and the signing keys.

A backup is a directory: the database (SQLite: a page copy taken with the online backup API,
consistent while the server writes in WAL mode; PostgreSQL: `pg_dump --format=custom`), the
content-addressed blobs, the signing keys and `manifest.json` with the SHA-256 of every file.
The database is copied before the blobs are listed: blobs are stored before the rows that name
them commit and are never changed, so every blob the copied rows name is in the backup.

Blobs are read from and restored into the installation's file store through its `BlobStore`
interface, wherever TAXASSIST_FILE_STORE_ROOT puts it (a shared store outside the data dir
included); the keys live in the data dir.

Restore checks every file against the manifest (and every blob against its own name) before it
writes anything, and refuses a target that already holds data (files in the data dir, tables in
the database, blobs in the store): a restore never merges.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from assistant.db.files import BlobStore
from assistant.errors import Conflict, InvalidInput, TaxAssistError

FORMAT = "taxassist-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "taxassist.db"
PG_DUMP_FILE = "database.pgdump"
BLOBS = "blobs"
KEYS = "keys"
_CHUNK = 1024 * 1024
# The copy waits this long for a writer holding SQLite's lock before it gives up.
_SQLITE_BUSY_MS = 60_000


@dataclass(frozen=True)
class BackupManifest:
    """What a backup holds: the database kind, each file with its hash and size."""

    database: str  # "sqlite" | "postgresql"
    created_at: str
    private_keys: bool
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> {sha256, size}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "database": self.database,
            "created_at": self.created_at,
            "private_keys": self.private_keys,
            "files": self.files,
        }

    def summary(self) -> dict[str, Any]:
        """The manifest without the file list: what the CLI prints."""
        blobs = [p for p in self.files if p.startswith(f"{BLOBS}/")]
        keys = [p for p in self.files if p.startswith(f"{KEYS}/")]
        return {
            "database": self.database,
            "created_at": self.created_at,
            "files": len(self.files),
            "blobs": len(blobs),
            "keys": len(keys),
            "private_keys": self.private_keys,
            "bytes": sum(int(f["size"]) for f in self.files.values()),
        }


def database_kind(url: str) -> str:
    """'sqlite' or 'postgresql'; any other backend has no backup method here."""
    backend = make_url(url).get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend
    raise InvalidInput(
        "backup_unsupported_database",
        f"不支持备份该类型的数据库：{backend}（仅支持 SQLite 与 PostgreSQL）。",
        details={"backend": backend},
    )


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput("backup_unsupported_database", "内存数据库无法备份或恢复。")
    return Path(database)


def create_backup(
    database_url: str,
    data_dir: Path,
    dest: Path,
    *,
    files: BlobStore,
    include_private_keys: bool = True,
) -> BackupManifest:
    """Write a backup of the database, the blobs of `files` and the keys of `data_dir` into
    `dest` (new or empty directory)."""
    kind = database_kind(database_url)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(
            "backup_target_not_empty",
            f"备份目录已存在且非空：{dest}，请指定新的目录。",
            details={"dest": str(dest)},
        )
    dest.mkdir(parents=True, exist_ok=True)
    # Private keys may be inside: only the owner may enter the backup.
    os.chmod(dest, 0o700)
    try:
        return _write_backup(database_url, data_dir, dest, kind, files, include_private_keys)
    except BaseException:
        # Half a backup must not be mistaken for one: the directory was empty, empty it again.
        for child in dest.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        raise


def _write_backup(
    database_url: str,
    data_dir: Path,
    dest: Path,
    kind: str,
    files: BlobStore,
    include_private_keys: bool,
) -> BackupManifest:
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    if kind == "sqlite":
        _sqlite_copy(sqlite_path(database_url), dest / SQLITE_FILE)
    else:
        _pg_dump(database_url, dest / PG_DUMP_FILE)
    for sha256 in sorted(files.hashes()):
        target = dest / BLOBS / sha256[:2] / sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files.path_for(sha256), target)
        target.chmod(0o444)
    keys_dir = data_dir / KEYS
    if include_private_keys and keys_dir.is_dir():
        (dest / KEYS).mkdir(mode=0o700)
        # every secret of the authority: signing keys and the progress inquiry's secret
        # (without it, the check codes given to parties would change)
        for key in sorted(p for p in keys_dir.iterdir() if p.is_file()):
            target = dest / KEYS / key.name
            shutil.copyfile(key, target)
            target.chmod(0o600)
    listed = {
        path.relative_to(dest).as_posix(): {"sha256": _sha256(path), "size": path.stat().st_size}
        for path in sorted(dest.rglob("*"))
        if path.is_file()
    }
    manifest = BackupManifest(kind, created_at, include_private_keys, listed)
    (dest / MANIFEST).write_text(
        json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest


def read_manifest(src: Path) -> BackupManifest:
    """Load and check a backup: every listed file present with its hash, nothing unlisted."""
    manifest_path = src / MANIFEST
    if not manifest_path.is_file():
        raise InvalidInput(
            "backup_invalid",
            f"不是有效的备份目录（缺少 {MANIFEST}）：{src}",
            details={"src": str(src)},
        )
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise ValueError("format")
        manifest = BackupManifest(
            database=str(data["database"]),
            created_at=str(data["created_at"]),
            private_keys=bool(data["private_keys"]),
            files={str(k): dict(v) for k, v in data["files"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            "backup_invalid", f"备份清单格式无效：{manifest_path}", details={"src": str(src)}
        ) from None
    problems = _check_files(src, manifest)
    if problems:
        raise InvalidInput(
            "backup_corrupted",
            f"备份已损坏或被改动（{len(problems)} 处），未恢复任何内容：{problems[0]['message']}",
            details={"problems": problems},
        )
    return manifest


def restore_backup(
    src: Path, data_dir: Path, database_url: str, *, files: BlobStore
) -> BackupManifest:
    """Restore a checked backup into an empty data dir, an empty database and the empty file
    store `files` (each blob stored through the store and checked against its name)."""
    manifest = read_manifest(src)
    kind = database_kind(database_url)
    if kind != manifest.database:
        raise InvalidInput(
            "backup_database_mismatch",
            f"备份的数据库类型为 {manifest.database}，与目标数据库类型 {kind} 不一致。",
            details={"backup": manifest.database, "target": kind},
        )
    _refuse_non_empty(data_dir, database_url, kind, files)
    data_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    stored: list[str] = []
    try:
        if kind == "sqlite":
            target = sqlite_path(database_url)
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(target)
            _copy_checked(src / SQLITE_FILE, target, manifest.files[SQLITE_FILE]["sha256"])
        else:
            _pg_restore(database_url, src / PG_DUMP_FILE)
        for rel, entry in manifest.files.items():
            top = rel.split("/", 1)[0]
            if top == BLOBS:
                if _store_checked(files, src / rel, str(entry["sha256"])):
                    stored.append(str(entry["sha256"]))
            elif top == KEYS:
                target = data_dir / rel
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(target.parent, 0o700)
                written.append(target)
                _copy_checked(src / rel, target, str(entry["sha256"]))
                target.chmod(0o600)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        for sha256 in stored:
            files.discard(sha256)
        raise
    return manifest


def _check_files(src: Path, manifest: BackupManifest) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    database_file = SQLITE_FILE if manifest.database == "sqlite" else PG_DUMP_FILE
    if database_file not in manifest.files:
        problems.append({"path": database_file, "message": f"清单中缺少数据库文件 {database_file}"})
    for rel, entry in manifest.files.items():
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or not parts:
            problems.append({"path": rel, "message": f"清单中的路径不安全：{rel}"})
            continue
        path = src / rel
        if not path.is_file():
            problems.append({"path": rel, "message": f"文件缺失：{rel}"})
            continue
        actual = _sha256(path)
        if actual != entry.get("sha256"):
            problems.append({"path": rel, "message": f"文件哈希不符：{rel}"})
        elif parts[0] == BLOBS and actual != parts[-1]:
            problems.append({"path": rel, "message": f"文件内容与其名称（SHA-256）不符：{rel}"})
    listed = set(manifest.files) | {MANIFEST}
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if path.is_file() and rel not in listed:
            problems.append({"path": rel, "message": f"清单之外的文件：{rel}"})
    return problems


def _refuse_non_empty(data_dir: Path, database_url: str, kind: str, files: BlobStore) -> None:
    occupied: list[str] = []
    # empty folders hold nothing (opening the file store creates its own)
    if data_dir.exists() and any(p.is_file() for p in data_dir.rglob("*")):
        occupied.append(str(data_dir))
    if next(iter(files.hashes()), None) is not None:
        occupied.append("文件存储（TAXASSIST_FILE_STORE_ROOT）")
    if kind == "sqlite":
        target = sqlite_path(database_url)
        if target.exists():
            occupied.append(str(target))
    else:
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                if inspect(connection).get_table_names():
                    occupied.append(make_url(database_url).render_as_string(hide_password=True))
        finally:
            engine.dispose()
    if occupied:
        raise Conflict(
            "restore_target_not_empty",
            f"恢复目标已有数据，为免覆盖或混合，拒绝恢复：{'、'.join(occupied)}",
            details={"occupied": occupied},
        )


def _sqlite_copy(source: Path, target: Path) -> None:
    """One-step online backup: a single read transaction, so one consistent snapshot."""
    if not source.is_file():
        raise InvalidInput("database_missing", f"数据库文件不存在：{source}")
    src = sqlite3.connect(source, timeout=_SQLITE_BUSY_MS / 1000)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)
        # A single self-contained file: no -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        ok = dst.execute("PRAGMA integrity_check").fetchone()
        if ok is None or ok[0] != "ok":
            raise TaxAssistError("backup_failed", f"备份的数据库未通过完整性检查：{ok}")
    finally:
        dst.close()
        src.close()


def _pg_env_and_url(url: str) -> tuple[dict[str, str], str]:
    """libpq URL without the driver and password; the password travels in PGPASSWORD."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return env, plain.render_as_string(hide_password=False)


def _run_pg(tool: str, args: list[str], url: str) -> None:
    if shutil.which(tool) is None:
        raise TaxAssistError(
            "pg_tool_missing",
            f"未找到 {tool}，请安装与服务器版本一致的 PostgreSQL 客户端工具。",
            status_code=503,
        )
    env, plain = _pg_env_and_url(url)
    result = subprocess.run(
        [tool, *args, "--dbname", plain], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise TaxAssistError(
            f"{tool}_failed",
            f"{tool} 执行失败：{result.stderr.strip()[-500:]}",
            status_code=500,
        )


def _pg_dump(url: str, target: Path) -> None:
    _run_pg("pg_dump", ["--format=custom", "--no-owner", "--file", str(target)], url)


def _pg_restore(url: str, dump: Path) -> None:
    _run_pg("pg_restore", ["--no-owner", "--exit-on-error", "--single-transaction", str(dump)], url)


def _copy_checked(source: Path, target: Path, sha256: str) -> None:
    """Copy and hash in one pass: the file written is the file checked."""
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
    if digest.hexdigest() != sha256:
        raise InvalidInput("backup_corrupted", f"恢复时文件哈希不符：{source}")


def _store_checked(files: BlobStore, source: Path, sha256: str) -> bool:
    """Store one blob through the store; the bytes it wrote must hash to the blob's name.
    Returns whether this call created it."""
    with source.open("rb") as reader:
        if source.stat().st_size == 0:  # an upload is never empty; other blobs may be
            stored, _, created = files.put_bytes(b"")
            if stored != sha256:
                raise InvalidInput("backup_corrupted", f"恢复时文件哈希不符：{source}")
            return created
        staged = files.stage(reader, max_bytes=source.stat().st_size)
    if staged.sha256 != sha256:
        staged.path.unlink(missing_ok=True)
        raise InvalidInput("backup_corrupted", f"恢复时文件哈希不符：{source}")
    return files.commit(staged)[1]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
