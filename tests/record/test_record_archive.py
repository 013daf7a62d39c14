"""一户式 archive: export, import into a fresh data directory, verify; modified archives fail."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.record.archive import export_archive, import_archive, verify_archive
from assistant.record.service import verify_record
from assistant.services import build_services
from tests.conftest import DEMO_USCC, clone_database, make_settings
from tests.record.helpers import build_record, migrated_template


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("record-template"))


def _rewrite(data: bytes, name: str, change: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            target.writestr(item, change if item == name else source.read(item))
    return out.getvalue()


def test_archive_imports_on_a_fresh_data_dir_and_verifies(tmp_path: Path, template: Path) -> None:
    record = build_record(tmp_path / "source", template)
    data = export_archive(record.services, DEMO_USCC)
    manifest = verify_archive(data)
    assert manifest["uscc"] == DEMO_USCC and len(manifest["files"]) == 2
    fresh_dir = tmp_path / "fresh"
    clone_database(template, fresh_dir)
    fresh = build_services(make_settings(fresh_dir, seed_demo_users=False))
    report = import_archive(fresh, data)
    assert report["ok"], report
    assert report["cases"][0]["events"] == 10 and report["cases"][0]["files"] == 2
    assert verify_record(fresh, record.case_id).ok
    assert fresh.files.verify(record.files[3])


def test_modified_archives_are_rejected(tmp_path: Path, template: Path) -> None:
    record = build_record(tmp_path / "source", template)
    data = export_archive(record.services, DEMO_USCC)
    sha = record.files[6]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    manifest["rows"]["cases"][0]["facts"] = "改写的事实"
    edited = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()
    cases = {
        "archive_file_altered": _rewrite(data, f"files/{sha}", b"another file"),
        "archive_signature_invalid": _rewrite(data, "manifest.json", edited),
        "archive_invalid": data[: len(data) // 2],
    }
    for code, bad in cases.items():
        with pytest.raises(InvalidInput) as caught:
            verify_archive(bad)
        assert caught.value.code == code
