"""一户式 archive: everything about one taxpayer in one signed zip, importable elsewhere.

The archive holds `manifest.json` (the taxpayer, its cases with their events, recordings with
transcripts and their corrections, documents with their revisions, step results, evidence
files with their readings, the publications of its decisions (draft, published or withdrawn:
their drafting, publishing and withdrawal are events of the case), the public keyring, and the
SHA-256 of every file), `manifest.sig`
(Ed25519 over the manifest bytes by the exporting authority's active key) and `files/<sha256>`.
Import checks every checksum and the signature, loads the rows with their original ids into an
empty data directory and re-verifies each case's signed record.

An uploaded archive is untrusted until verified: its compressed size, entry count and the
unpacked sizes its directory declares are checked against `ArchiveLimits` before anything is
unpacked (zipfile never unpacks an entry beyond its declared size), and entries are hashed and
stored in chunks, so memory stays flat whatever the archive holds.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.db.models import (
    Base,
    Case,
    CaseEvent,
    CaseResult,
    Document,
    DocumentRevision,
    Evidence,
    Publication,
    Recording,
    SegmentRevision,
    SigningKey,
    Taxpayer,
    TranscriptSegment,
    User,
)
from assistant.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from assistant.record.chain import verify_case
from assistant.record.keys import PublicKeyInfo
from assistant.services import Services

FORMAT = "taxassist-archive/1"
TABLES: list[type[Base]] = [
    Taxpayer,
    Case,
    CaseEvent,
    Recording,
    TranscriptSegment,
    SegmentRevision,
    Document,
    DocumentRevision,
    CaseResult,
    Evidence,
    Publication,
]
MAX_MANIFEST_BYTES = 64 * 1024**2  # parsed in memory; a real manifest is a few MB
_CHUNK = 1024**2


def _default(name: str) -> int:
    value: int = Settings.model_fields[name].default
    return value


@dataclass(frozen=True)
class ArchiveLimits:
    """What one archive may hold (settings `archive_max_*`)."""

    max_bytes: int = _default("archive_max_bytes")
    max_unpacked_bytes: int = _default("archive_max_unpacked_bytes")
    max_entries: int = _default("archive_max_entries")

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveLimits:
        return cls(
            max_bytes=settings.archive_max_bytes,
            max_unpacked_bytes=settings.archive_max_unpacked_bytes,
            max_entries=settings.archive_max_entries,
        )


ArchiveSource = bytes | BinaryIO
# Tables added after the first archives were written: an archive without them has none.
LATER_TABLES = frozenset({"segment_revisions", "document_revisions", "evidence", "publications"})


def export_archive(services: Services, uscc: str) -> bytes:
    """The taxpayer's whole file as a signed zip (bytes)."""
    with services.db.session() as session:
        taxpayer = session.scalar(select(Taxpayer).where(Taxpayer.uscc == uscc.strip().upper()))
        if taxpayer is None:
            raise NotFound("taxpayer_not_found", f"纳税人 {uscc} 不存在。")
        cases = list(
            session.scalars(select(Case).where(Case.taxpayer_id == taxpayer.id).order_by(Case.id))
        )
        case_ids = [c.id for c in cases]
        recordings = list(
            session.scalars(
                select(Recording).where(Recording.case_id.in_(case_ids)).order_by(Recording.id)
            )
        )
        documents = list(
            session.scalars(
                select(Document).where(Document.case_id.in_(case_ids)).order_by(Document.id)
            )
        )
        rows: dict[str, list[dict[str, Any]]] = {
            "taxpayers": [_row(taxpayer)],
            "cases": [_row(c) for c in cases],
            "case_events": [
                _row(e)
                for e in session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).order_by(CaseEvent.id)
                )
            ],
            "recordings": [_row(r) for r in recordings],
            "transcript_segments": [
                _row(s)
                for s in session.scalars(
                    select(TranscriptSegment)
                    .where(TranscriptSegment.recording_id.in_([r.id for r in recordings]))
                    .order_by(TranscriptSegment.id)
                )
            ],
            "segment_revisions": [
                _row(s)
                for s in session.scalars(
                    select(SegmentRevision)
                    .where(SegmentRevision.recording_id.in_([r.id for r in recordings]))
                    .order_by(SegmentRevision.id)
                )
            ],
            "documents": [_row(d) for d in documents],
            "document_revisions": [
                _row(d)
                for d in session.scalars(
                    select(DocumentRevision)
                    .where(DocumentRevision.document_id.in_([d.id for d in documents]))
                    .order_by(DocumentRevision.id)
                )
            ],
            "case_results": [
                _row(r)
                for r in session.scalars(
                    select(CaseResult)
                    .where(CaseResult.case_id.in_(case_ids))
                    .order_by(CaseResult.id)
                )
            ],
            "evidence": [
                _row(e)
                for e in session.scalars(
                    select(Evidence).where(Evidence.case_id.in_(case_ids)).order_by(Evidence.id)
                )
            ],
            "publications": [
                _row(p)
                for p in session.scalars(
                    select(Publication)
                    .where(Publication.case_id.in_(case_ids))
                    .order_by(Publication.id)
                )
            ],
        }
        actor_ids = {e["actor_id"] for e in rows["case_events"]} | {
            c["officer_id"] for c in rows["cases"]
        }
        actor_ids |= {r["uploaded_by"] for r in rows["recordings"]}
        actor_ids |= {d["created_by"] for d in rows["documents"]}
        actor_ids |= {r["created_by"] for r in rows["case_results"]}
        actor_ids |= {r["edited_by"] for r in rows["segment_revisions"]}
        actor_ids |= {r["author_id"] for r in rows["document_revisions"]}
        actor_ids |= {e["uploaded_by"] for e in rows["evidence"]}
        actor_ids |= {
            p[key]
            for p in rows["publications"]
            for key in ("created_by", "published_by", "withdrawn_by")
            if p[key] is not None
        }
        users = [
            {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role}
            for u in session.scalars(select(User).where(User.id.in_(actor_ids)).order_by(User.id))
        ]
        keys = [_row(k) for k in session.scalars(select(SigningKey).order_by(SigningKey.key_id))]
        signer = services.keystore().signer(session)
        linked = {f["sha256"] for e in rows["case_events"] for f in (e["files"] or [])}
        shas = sorted(
            linked
            | {r["sha256"] for r in rows["recordings"]}
            | {d["sha256"] for d in rows["documents"]}
            | {r["sha256"] for r in rows["document_revisions"]}
            | {e["sha256"] for e in rows["evidence"]}
        )
    files = {sha: services.files.path_for(sha).read_bytes() for sha in shas}
    manifest = {
        "format": FORMAT,
        "uscc": taxpayer.uscc,
        "exported_at": datetime.now().astimezone().isoformat(),
        "signing_key": signer.key_id,
        "users": users,
        "signing_keys": keys,
        "rows": rows,
        "files": {
            sha: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for sha, data in files.items()
        },
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest_bytes)
        archive.writestr("manifest.sig", signer.sign(manifest_bytes).hex())
        for sha, data in files.items():
            archive.writestr(f"files/{sha}", data)
    return buffer.getvalue()


def open_archive(source: ArchiveSource, limits: ArchiveLimits) -> zipfile.ZipFile:
    """The zip, measured against `limits` before any entry is unpacked (413 beyond them)."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if size > limits.max_bytes:
        raise _too_large("archive_too_large", "归档文件过大", limits.max_bytes, size)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidInput("archive_invalid", f"归档文件无法读取：{exc}") from exc
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise PayloadTooLarge(
            "archive_too_many_entries",
            f"归档中的文件过多（{len(entries)} 个，上限 {limits.max_entries} 个）。",
            details={"entries": len(entries), "max_entries": limits.max_entries},
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_unpacked_bytes:
        raise _too_large(
            "archive_unpacked_too_large", "归档解压后过大", limits.max_unpacked_bytes, unpacked
        )
    for entry in entries:
        small = entry.filename in ("manifest.json", "manifest.sig")
        if small and entry.file_size > MAX_MANIFEST_BYTES:
            raise _too_large(
                "archive_unpacked_too_large", "归档清单过大", MAX_MANIFEST_BYTES, entry.file_size
            )
    return archive


def _too_large(code: str, what: str, limit: int, size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        code,
        f"{what}（{size / 1024**2:.1f} MB，上限 {limit / 1024**2:.1f} MB）。",
        details={"bytes": size, "max_bytes": limit},
    )


def _entry_sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as entry:
        while chunk := entry.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_archive(
    source: ArchiveSource,
    keyring: list[PublicKeyInfo] | None = None,
    limits: ArchiveLimits | None = None,
) -> dict[str, Any]:
    """Checksums of every file and the manifest signature; raises on the first problem.

    Without `keyring` the archive's own keyring is trusted, which only proves the archive is
    self-consistent: whoever re-signs it with a key of their own passes. With the exporting
    authority's published keyring (`taxassist record keys export`) the manifest's signing key
    and every key the archive carries must be in it, with the same public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    archive = open_archive(source, limits or ArchiveLimits())
    try:
        manifest_bytes = archive.read("manifest.json")
        signature = bytes.fromhex(archive.read("manifest.sig").decode())
        manifest = json.loads(manifest_bytes)
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("archive_invalid", f"归档文件无法读取：{exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("archive_invalid", "不是 TaxAssist 一户式归档文件。")
    try:
        key = next(
            (k for k in manifest["signing_keys"] if k["key_id"] == manifest["signing_key"]), None
        )
        if key is None:
            raise InvalidInput("archive_signature_invalid", "归档签名密钥不在归档的公钥清单中。")
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"]))
        if keyring is not None:
            _check_against_keyring(manifest["signing_keys"], manifest["signing_key"], keyring)
        files = dict(manifest["files"])
        for table in ("taxpayers", "cases", *(t.__tablename__ for t in TABLES)):
            if table in LATER_TABLES:
                manifest["rows"].setdefault(table, [])
            if not isinstance(manifest["rows"][table], list):
                raise TypeError(table)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput("archive_invalid", f"归档清单不完整：{exc}") from exc
    try:
        public.verify(signature, manifest_bytes)
    except Exception as exc:
        raise InvalidInput(
            "archive_signature_invalid", "归档清单的签名无效（清单被修改）。"
        ) from exc
    manifest["files"] = files
    names = set(archive.namelist())
    for sha, meta in manifest["files"].items():
        name = f"files/{sha}"
        if name not in names:
            raise InvalidInput(
                "archive_file_missing", f"归档缺少文件 {sha[:16]}…。", details={"sha256": sha}
            )
        try:
            actual = _entry_sha256(archive, name)
        except (zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError) as exc:
            raise InvalidInput("archive_invalid", f"归档文件无法读取：{exc}") from exc
        if actual != meta["sha256"]:
            raise InvalidInput(
                "archive_file_altered",
                f"归档中的文件 {sha[:16]}… 被修改。",
                details={"sha256": sha},
            )
    return manifest


def import_archive(
    services: Services, source: ArchiveSource, keyring: list[PublicKeyInfo] | None = None
) -> dict[str, Any]:
    """Load a verified archive into this data directory, all or nothing.

    Files are stored first (content-addressed; those this import created are removed again on
    failure), then every row is added and each case's signed record is re-verified inside the
    same transaction (against `keyring` when given): a record that does not verify rolls the
    whole import back, so nothing is half-imported."""
    limits = ArchiveLimits.from_settings(services.settings)
    manifest = verify_archive(source, keyring, limits)
    archive = open_archive(source, limits)
    created: list[str] = []
    try:
        for sha in manifest["files"]:
            with archive.open(f"files/{sha}") as entry:
                staged = services.files.stage(entry, max_bytes=limits.max_unpacked_bytes)
            if services.files.commit(staged)[1]:
                created.append(staged.sha256)
        with services.db.session() as session:
            _load_rows(session, manifest)
            reports = [
                verify_case(session, services.files, case["id"], keyring=keyring).to_dict()
                for case in manifest["rows"]["cases"]
            ]
            bad = [r for r in reports if not r["ok"]]
            if bad:
                raise Conflict(
                    "archive_record_invalid",
                    "归档中的执法记录未通过验证，未导入任何内容。",
                    details={"cases": bad},
                )
    except BaseException:
        for sha in created:
            services.files.discard(sha)
        raise
    return {"uscc": manifest["uscc"], "cases": reports, "ok": True}


def _load_rows(session: Session, manifest: dict[str, Any]) -> None:
    if session.scalar(select(Taxpayer).where(Taxpayer.uscc == manifest["uscc"])) is not None:
        raise Conflict("taxpayer_exists", f"纳税人 {manifest['uscc']} 的档案已存在。")
    try:
        for user in manifest["users"]:
            existing = session.get(User, user["id"])
            if existing is None:
                session.add(User(**user, password_hash="!imported", active=False))
            elif existing.username != user["username"]:
                raise Conflict("archive_user_conflict", f"用户编号 {user['id']} 已被占用。")
        known = {k.key_id for k in session.scalars(select(SigningKey))}
        for key in manifest["signing_keys"]:
            if key["key_id"] not in known:
                session.add(SigningKey(**_values(SigningKey, key)))
        session.flush()
        for table in TABLES:
            for row in manifest["rows"][table.__tablename__]:
                session.add(table(**_values(table, row)))
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "archive_row_conflict", "归档中的记录与本系统已有记录编号冲突，未导入任何内容。"
        ) from exc


def _check_against_keyring(
    archive_keys: list[dict[str, Any]], signing_key: str, keyring: list[PublicKeyInfo]
) -> None:
    """Every key the archive carries must be a published key with the same public bytes."""
    published = {k.key_id: k.to_dict()["public_key"] for k in keyring}
    if signing_key not in published:
        raise InvalidInput(
            "archive_key_untrusted",
            "归档的签名密钥不在公布的公钥清单中（归档可能被他人重新签名）。",
            details={"key_id": signing_key},
        )
    for key in archive_keys:
        if published.get(key["key_id"]) != key["public_key"]:
            raise InvalidInput(
                "archive_key_untrusted",
                "归档携带的公钥与公布的公钥清单不一致。",
                details={"key_id": key["key_id"]},
            )


def _row(obj: Base) -> dict[str, Any]:
    mapper = inspect(type(obj))
    out = {}
    for column in mapper.columns:
        value = getattr(obj, column.key)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif value is not None and column.type.__class__.__name__ == "Money":
            value = str(value)
        out[column.key] = value
    return out


def _values(table: type[Base], row: dict[str, Any]) -> dict[str, Any]:
    from decimal import Decimal

    mapper = inspect(table)
    values = {}
    for column in mapper.columns:
        if column.key not in row:
            continue  # a column newer than the archive: its default applies
        value = row[column.key]
        kind = column.type.__class__.__name__
        if value is not None and kind == "UTCDateTime":
            value = datetime.fromisoformat(value)
        elif value is not None and kind == "Date":
            value = date.fromisoformat(value)
        elif value is not None and kind == "Money":
            value = Decimal(value)
        values[column.key] = value
    return values


def write_archive(services: Services, uscc: str, out: Path) -> Path:
    out.write_bytes(export_archive(services, uscc))
    return out
