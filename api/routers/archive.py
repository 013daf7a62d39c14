"""一户式 archive over the API: export by 统一社会信用代码, verify and import an upload.

Administrators only. The handlers are plain functions, so FastAPI runs them in its threadpool:
unpacking and hashing an archive never blocks the event loop. An upload is read from the
spooled temporary file it already is, not copied into memory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from api.deps import AdminUser, ServicesDep
from api.openapi import file_responses
from assistant.record.archive import ArchiveLimits, export_archive, import_archive, verify_archive
from assistant.record.keys import PublicKeyInfo, keyring_from_json

router = APIRouter(prefix="/archives", tags=["archive"])

MAX_KEYRING_BYTES = 10 * 1024**2


def _keyring(upload: UploadFile | None) -> list[PublicKeyInfo] | None:
    if upload is None:
        return None
    return keyring_from_json(upload.file.read(MAX_KEYRING_BYTES).decode("utf-8", "replace"))


@router.get("/{uscc}", response_class=Response, responses=file_responses("application/zip"))
def export(uscc: str, admin: AdminUser, services: ServicesDep) -> Response:
    """The taxpayer's signed archive as a zip download (404 for an unknown taxpayer)."""
    data = export_archive(services, uscc)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{uscc.strip().upper()}.zip"'},
    )


@router.post("/verify")
def verify(
    admin: AdminUser,
    services: ServicesDep,
    file: UploadFile = File(description="一户式归档 .zip"),
    keyring: UploadFile | None = File(None, description="公布的公钥清单 (keys export)"),
) -> dict[str, Any]:
    """Signature and checksums of an uploaded archive; 422 with the reason when it fails,
    413 when it is larger, unpacks larger or holds more files than the settings allow."""
    limits = ArchiveLimits.from_settings(services.settings)
    manifest = verify_archive(file.file, _keyring(keyring), limits)
    return {
        "ok": True,
        "uscc": manifest["uscc"],
        "signing_key": manifest["signing_key"],
        "cases": len(manifest["rows"]["cases"]),
        "files": len(manifest["files"]),
        "keyring_checked": keyring is not None,
    }


@router.post("/import", status_code=201)
def import_(
    admin: AdminUser,
    services: ServicesDep,
    file: UploadFile = File(description="一户式归档 .zip"),
    keyring: UploadFile | None = File(None, description="公布的公钥清单 (keys export)"),
) -> dict[str, Any]:
    """Verify, then load the archive all or nothing and re-verify every case's record."""
    return import_archive(services, file.file, _keyring(keyring))
