"""一户式 archive over the API: export by 统一社会信用代码, verify and import an upload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from api.deps import CurrentUser, ServicesDep
from api.openapi import file_responses
from assistant.auth.security import Role
from assistant.db.models import User
from assistant.errors import Forbidden, PayloadTooLarge
from assistant.record.archive import export_archive, import_archive, verify_archive
from assistant.record.keys import PublicKeyInfo, keyring_from_json

router = APIRouter(prefix="/archives", tags=["archive"])

# An archive holds recordings; this bounds what one upload may hold in memory.
MAX_ARCHIVE_BYTES = 2 * 1024**3


def _require_archivist(user: User) -> None:
    """A taxpayer's whole file leaves or enters the system only through an administrator."""
    if user.role != Role.ADMIN:
        raise Forbidden("role_not_allowed", "只有管理员可以导出或导入一户式归档。")


async def _read(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_ARCHIVE_BYTES + 1)
    if len(data) > MAX_ARCHIVE_BYTES:
        raise PayloadTooLarge("archive_too_large", "归档文件过大。")
    return data


async def _keyring(upload: UploadFile | None) -> list[PublicKeyInfo] | None:
    if upload is None:
        return None
    return keyring_from_json((await upload.read(10 * 1024**2)).decode("utf-8", "replace"))


@router.get("/{uscc}", response_class=Response, responses=file_responses("application/zip"))
def export(uscc: str, user: CurrentUser, services: ServicesDep) -> Response:
    """The taxpayer's signed archive as a zip download (404 for an unknown taxpayer)."""
    _require_archivist(user)
    data = export_archive(services, uscc)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{uscc.strip().upper()}.zip"'},
    )


@router.post("/verify")
async def verify(
    user: CurrentUser,
    file: UploadFile = File(description="一户式归档 .zip"),
    keyring: UploadFile | None = File(None, description="公布的公钥清单 (keys export)"),
) -> dict[str, Any]:
    """Signature and checksums of an uploaded archive; 422 with the reason when it fails."""
    manifest = verify_archive(await _read(file), await _keyring(keyring))
    return {
        "ok": True,
        "uscc": manifest["uscc"],
        "signing_key": manifest["signing_key"],
        "cases": len(manifest["rows"]["cases"]),
        "files": len(manifest["files"]),
        "keyring_checked": keyring is not None,
    }


@router.post("/import", status_code=201)
async def import_(
    user: CurrentUser,
    services: ServicesDep,
    file: UploadFile = File(description="一户式归档 .zip"),
    keyring: UploadFile | None = File(None, description="公布的公钥清单 (keys export)"),
) -> dict[str, Any]:
    """Verify, then load the archive all or nothing and re-verify every case's record."""
    _require_archivist(user)
    return import_archive(services, await _read(file), await _keyring(keyring))
