"""Hostile archive uploads: zip bombs, many entries, oversize uploads; admin only; off the loop."""

from __future__ import annotations

import asyncio
import io
import os
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.services import build_services, setup
from tests.api.apphelpers import assert_error, login, running_app
from tests.conftest import make_settings


@contextmanager
def _app(tmp_path: Path, **overrides: object) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", **overrides)
    services = build_services(settings)
    setup(services, with_index=False)
    services.db.engine.dispose()
    with running_app(settings) as client:
        yield client


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _verify(client: TestClient, data: bytes, headers: dict[str, str]) -> Any:
    return client.post("/archives/verify", files={"file": ("a.zip", data)}, headers=headers)


def test_only_admins_may_verify_archives(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        for role in ("officer", "reviewer", "approver"):
            assert_error(
                _verify(client, b"not a zip", login(client, role)), 403, "role_not_allowed"
            )
        assert_error(_verify(client, b"not a zip", login(client, "admin")), 422, "archive_invalid")


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    bomb = _zip({"manifest.json": b"{}", "files/" + "0" * 64: bytes(8 * 1024**2)})
    assert len(bomb) < 20_000
    with _app(tmp_path, archive_max_unpacked_bytes=1024**2) as client:
        error = assert_error(
            _verify(client, bomb, login(client, "admin")), 413, "archive_unpacked_too_large"
        )
        assert error["details"]["max_bytes"] == 1024**2  # type: ignore[index]


def test_entry_count_and_upload_size_are_limited(tmp_path: Path) -> None:
    many = _zip({f"files/{n:064d}": b"x" for n in range(12)})
    big = _zip({"files/noise": os.urandom(20_000)})
    with _app(tmp_path, archive_max_entries=10, archive_max_bytes=10_000) as client:
        admin = login(client, "admin")
        assert_error(_verify(client, many, admin), 413, "archive_too_many_entries")
        assert_error(_verify(client, big, admin), 413, "archive_too_large")


def test_the_declared_size_bounds_what_an_entry_unpacks_to() -> None:
    """The unpacked limit trusts the directory's sizes: an entry that understates its size is
    never unpacked beyond it (zipfile stops there and the CRC check fails)."""
    name = "files/" + "a" * 64
    liar = bytearray(_zip({name: bytes(100_000)}))
    directory = bytes(liar).rindex(b"PK\x01\x02")
    struct.pack_into("<I", liar, directory + 24, 10)  # uncompressed size in the directory
    archive = zipfile.ZipFile(io.BytesIO(bytes(liar)))
    assert archive.getinfo(name).file_size == 10
    with pytest.raises(zipfile.BadZipFile), archive.open(name) as entry:
        assert len(entry.read()) <= 10


def test_archive_work_runs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.routers.archive as archive_router

    loops: list[bool] = []
    real = archive_router.verify_archive

    def spy(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:
            loops.append(False)
        return real(*args, **kwargs)

    monkeypatch.setattr(archive_router, "verify_archive", spy)
    with _app(tmp_path) as client:
        assert_error(_verify(client, b"not a zip", login(client, "admin")), 422, "archive_invalid")
    assert loops == [False]
