"""`taxassist backup create|restore` on a real database and file store, while another
connection writes: the restored copy verifies, serves the same cases and can still sign."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from assistant.auth import create_user
from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.credentials import add_credential
from assistant.db.backup import create_backup, read_manifest, restore_backup
from assistant.db.files import FileStore
from assistant.db.models import Case, User
from assistant.errors import Conflict, InvalidInput, TaxAssistError
from assistant.record.service import verify_record
from assistant.services import build_services
from tests.api.apphelpers import running_app
from tests.conftest import (
    DEMO_USCC,
    clone_database,
    database_env,
    database_url_for,
    demo_case_payload,
    make_settings,
    sqlite_only,
)
from tests.core.test_cli import run_cli
from tests.pgserver import new_database
from tests.record.helpers import build_record, credentialed_officer, migrated_template

PASSWORD = "vanilla-kite-58-river"  # the helper's officer


def _login(client: object, username: str = "officer") -> dict[str, str]:
    response = client.post(  # type: ignore[attr-defined]
        "/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def new_case() -> NewCase:
    return NewCase(
        taxpayer=TaxpayerInput(name="示例商贸有限公司", id_number=DEMO_USCC, kind="organisation"),
        violation="late_filing",
        facts="该公司增值税纳税申报逾期30日。",
        violation_date=date(2025, 4, 15),
        days_overdue=30,
        tax_unpaid=Decimal("8000.00"),
        corrected_in_time=True,
    )


def stored_files(root: Path) -> list[Path]:
    """The files under `root` (a refused restore writes none; empty folders hold nothing)."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def _case_ids(database: Path) -> list[int]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        ids = [row[0] for row in connection.execute(text("SELECT id FROM cases ORDER BY id"))]
    engine.dispose()
    return ids


@sqlite_only(
    reason="SQLite's online backup of taxassist.db under a writer; PostgreSQL's pg_dump path "
    "is test_postgresql_backup_and_restore_through_pg_dump"
)
def test_backup_while_writing_restores_a_copy_that_verifies_and_serves_the_same_cases(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    record = build_record(tmp_path / "data", migrated_template(tmp_path))
    original = record.settings
    shutil.copytree(shared_index_dir, original.index_dir)
    # A second connection keeps opening cases (each with a signed event) during the backup.
    writer_services = build_services(original)
    with writer_services.db.session() as session:
        officer = session.scalar(select(User).where(User.username == "officer"))
        assert officer is not None
        session.expunge(officer)
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set() or len(written) < 5:
                written.append(CaseWorkflow(writer_services).create_case(officer, new_case()).id)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 2 and not errors:
            threading.Event().wait(0.05)
        backup = tmp_path / "backup"
        before_backup = len(written)
        created = run_cli("backup", "create", str(backup), "--json", data_dir=original.data_dir)
        during_backup = len(written) - before_backup
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert during_backup > 0  # the writer really wrote while the backup ran
    assert created.returncode == 0, created.stderr
    summary = json.loads(created.stdout)
    assert summary["database"] == "sqlite" and summary["private_keys"] is True
    assert summary["blobs"] >= 2 and summary["keys"] == 1
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    for key in (backup / "keys").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {
        p.relative_to(backup).as_posix()
        for p in backup.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }

    restored_dir = tmp_path / "restored"
    restored = run_cli(
        "backup",
        "restore",
        str(backup),
        "--data-dir",
        str(restored_dir),
        "--json",
        data_dir=original.data_dir,
    )
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["restored_to"] == str(restored_dir.resolve())
    for key in (restored_dir / "keys").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600

    # Every case in the copy is complete (the snapshot is one transaction) and verifies.
    restored_ids = _case_ids(restored_dir / "taxassist.db")
    original_ids = _case_ids(original.data_dir / "taxassist.db")
    assert record.case_id in restored_ids and len(restored_ids) >= 3
    assert set(restored_ids) <= set(original_ids)
    restored_settings = make_settings(restored_dir, seed_demo_users=False)
    services = build_services(restored_settings)
    for case_id in restored_ids:
        report = verify_record(services, case_id)
        assert report.ok, (case_id, report.to_dict())
        # The helper's hand-made events carry no content hashes; the workflow's do.
        assert report.content_covered or case_id == record.case_id
    with services.db.session() as session:
        assert session.get(Case, record.case_id) is not None
    services.db.engine.dispose()
    cli_verify = run_cli("record", "verify", str(record.case_id), data_dir=restored_dir)
    assert cli_verify.returncode == 0, cli_verify.stdout + cli_verify.stderr

    # The API on each copy: the same cases (ids, numbers, everything) and document bytes.
    def serve(settings: object) -> tuple[list[dict[str, object]], bytes]:
        with running_app(settings) as client:  # type: ignore[arg-type]
            headers = _login(client)
            cases = [client.get(f"/cases/{i}", headers=headers).json() for i in restored_ids]
            document = client.get(f"/documents/{record.document_id}/file", headers=headers)
            assert document.status_code == 200, document.text
            return cases, document.content

    original_cases, original_document = serve(original)
    shutil.copytree(shared_index_dir, restored_settings.index_dir)  # derived: not backed up
    restored_cases, restored_document = serve(restored_settings)
    assert restored_cases == original_cases
    assert [c["id"] for c in restored_cases] == restored_ids
    assert all(c["number"] for c in restored_cases)
    assert restored_document == original_document
    assert original.blobs_dir.joinpath(record.files[6][:2], record.files[6]).read_bytes() == (
        restored_document
    )

    # The restored authority still signs: a new case there verifies.
    with running_app(restored_settings) as client:
        headers = _login(client)
        new_id = client.post("/cases", json=demo_case_payload(), headers=headers).json()["id"]
        assert new_id not in restored_ids
        verified = client.get(f"/cases/{new_id}/record/verify", headers=headers).json()
        assert verified["ok"] is True, verified


def test_restore_refuses_a_tampered_backup_and_a_non_empty_target(tmp_path: Path) -> None:
    record = build_record(tmp_path / "data", migrated_template(tmp_path))
    settings, store = record.settings, record.services.files
    backup = tmp_path / "backup"
    create_backup(settings.resolved_database_url, settings.data_dir, backup, files=store)
    read_manifest(backup)  # intact

    # A backup over a non-empty directory is refused as well.
    with pytest.raises(Conflict) as exc:
        create_backup(settings.resolved_database_url, settings.data_dir, backup, files=store)
    assert exc.value.code == "backup_target_not_empty"

    # A target that holds anything is refused, with a non-zero exit and a Chinese message.
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "note.txt").write_text("x", encoding="utf-8")
    refused = run_cli(
        "backup", "restore", str(backup), "--data-dir", str(occupied), data_dir=settings.data_dir
    )
    assert refused.returncode == 1
    assert "restore_target_not_empty" in refused.stderr and "拒绝恢复" in refused.stderr
    assert [p.name for p in stored_files(occupied)] == ["note.txt"]

    # One byte of one blob changed (manifest untouched): nothing is written.
    blob = backup / "blobs" / record.files[3][:2] / record.files[3]
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    target = tmp_path / "fresh"
    refused = run_cli(
        "backup",
        "restore",
        str(backup),
        "--data-dir",
        str(target),
        "--json",
        data_dir=settings.data_dir,
    )
    assert refused.returncode == 1
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "backup_corrupted"
    assert [p["path"] for p in error["details"]["problems"]] == [
        f"blobs/{record.files[3][:2]}/{record.files[3]}"
    ]
    assert not stored_files(target)

    # The same change with the manifest rewritten to match: the blob no longer matches its name.
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    rel = f"blobs/{record.files[3][:2]}/{record.files[3]}"
    manifest["files"][rel]["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    target_store = FileStore(target / "blobs")
    with pytest.raises(InvalidInput) as corrupted:
        restore_backup(
            backup, target, make_settings(target).resolved_database_url, files=target_store
        )
    assert corrupted.value.code == "backup_corrupted"
    assert not stored_files(target)

    # A file slipped in, or a path out of the backup: refused.
    blob.write_bytes(bytes(data[:100]) + bytes([data[100] ^ 0xFF]) + bytes(data[101:]))
    manifest["files"][rel]["sha256"] = record.files[3]
    manifest["files"]["../escape"] = {"sha256": "0" * 64, "size": 1}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (backup / "extra.bin").write_bytes(b"x")
    with pytest.raises(InvalidInput) as unsafe:
        read_manifest(backup)
    paths = [p["path"] for p in unsafe.value.details["problems"]]
    assert paths == ["../escape", "extra.bin"]
    assert os.listdir(tmp_path / "data" / "blobs")  # the original store is untouched


@pytest.fixture
def postgres_databases(postgres_url: str) -> Iterator[tuple[str, str]]:
    """Two new databases (source, empty target) on the test session's PostgreSQL server."""
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("PostgreSQL backup test needs pg_dump/pg_restore on PATH (postgresql-client)")
    with new_database(postgres_url, "src") as source, new_database(postgres_url, "dst") as target:
        yield source, target


def test_postgresql_backup_and_restore_through_pg_dump(
    tmp_path: Path, postgres_databases: tuple[str, str]
) -> None:
    source_url, empty_url = postgres_databases
    settings = make_settings(tmp_path / "data", database_url=source_url, seed_demo_users=False)
    services = build_services(settings)
    services.db.migrate()
    with services.db.session() as session:
        officer = create_user(session, username="officer", password=PASSWORD, role="officer")
        session.flush()
        add_credential(
            session,
            "officer",
            number="PG-0001",
            issued_on=date(2024, 1, 1),
            valid_until=date(2099, 12, 31),
        )
        session.expunge(officer)
    workflow = CaseWorkflow(services)
    created = [workflow.create_case(officer, new_case()) for _ in range(3)]
    services.db.engine.dispose()

    backup = tmp_path / "backup"
    manifest = create_backup(source_url, settings.data_dir, backup, files=services.files)
    assert manifest.database == "postgresql" and "database.pgdump" in manifest.files
    assert manifest.summary()["keys"] == 1
    restored_dir = tmp_path / "restored"
    restore_backup(backup, restored_dir, empty_url, files=FileStore(restored_dir / "blobs"))
    restored = build_services(
        make_settings(restored_dir, database_url=empty_url, seed_demo_users=False)
    )
    with restored.db.session() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        assert [(c.id, c.number) for c in cases] == [(c.id, c.number) for c in created]
    for case in created:
        report = verify_record(restored, case.id)
        assert report.ok and report.content_covered, report.to_dict()
    # The restored authority signs with the restored key.
    assert verify_record(restored, CaseWorkflow(restored).create_case(officer, new_case()).id).ok
    restored.db.engine.dispose()
    again = tmp_path / "again"
    with pytest.raises(Conflict) as exc:
        restore_backup(backup, again, empty_url, files=FileStore(again / "blobs"))
    assert exc.value.code == "restore_target_not_empty"
    assert not stored_files(again)


def test_backup_without_private_keys_verifies_but_cannot_sign(tmp_path: Path) -> None:
    record = build_record(tmp_path / "data", migrated_template(tmp_path))
    settings = record.settings
    backup = tmp_path / "backup"
    manifest = create_backup(
        settings.resolved_database_url,
        settings.data_dir,
        backup,
        files=record.services.files,
        include_private_keys=False,
    )
    assert manifest.summary()["keys"] == 0 and not (backup / "keys").exists()
    target = tmp_path / "restored"
    restore_backup(
        backup,
        target,
        make_settings(target).resolved_database_url,
        files=FileStore(target / "blobs"),
    )
    services = build_services(make_settings(target, seed_demo_users=False))
    assert verify_record(services, record.case_id).ok
    with services.db.session() as session:
        officer = session.scalar(select(User).where(User.username == "officer"))
        assert officer is not None
        session.expunge(officer)
    with pytest.raises(TaxAssistError) as missing:
        CaseWorkflow(services).create_case(officer, new_case())
    assert missing.value.code == "signing_key_missing"


def test_failed_backup_leaves_no_half_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = build_record(tmp_path / "data", migrated_template(tmp_path))
    real_copy = shutil.copyfile
    copies: list[str] = []

    def disk_full_on_second_blob(src: Path, dst: Path) -> object:
        copies.append(str(src))
        if len(copies) == 2:
            raise OSError(28, "No space left on device")
        return real_copy(src, dst)

    monkeypatch.setattr("assistant.db.backup.shutil.copyfile", disk_full_on_second_blob)
    backup = tmp_path / "backup"
    with pytest.raises(OSError):
        create_backup(
            record.settings.resolved_database_url,
            record.settings.data_dir,
            backup,
            files=record.services.files,
        )
    assert len(copies) == 2
    assert backup.is_dir() and not any(backup.iterdir())


def test_a_file_store_outside_the_data_dir_is_backed_up_and_restored_whole(
    tmp_path: Path,
) -> None:
    """Scale-out: the originals live in a shared store (TAXASSIST_FILE_STORE_ROOT) outside the
    data dir. `backup create` copies every one of them; `backup restore` puts each back into
    the configured store, the bytes hashing to their names; a store that already holds blobs
    is refused like any non-empty target."""
    template = migrated_template(tmp_path)
    data_dir, shared = tmp_path / "data", tmp_path / "shared-store"
    clone_database(template, data_dir)
    settings = make_settings(data_dir, seed_demo_users=False, file_store_root=shared)
    services = build_services(settings)
    officer = credentialed_officer(services)
    case_id = CaseWorkflow(services).create_case(officer, new_case()).id
    originals = {services.files.put_bytes(os.urandom(2048) + bytes([n]))[0] for n in range(3)}
    services.db.engine.dispose()
    assert not (data_dir / "blobs").exists()  # nothing of the store is in the data dir

    # the CLI in this process (a subprocess pays the imports again): the settings from the env
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.config import get_settings

    def cli(*args: str, store_root: Path, database_of: Path) -> dict[str, object]:
        env = {
            "TAXASSIST_DATA_DIR": str(data_dir),
            "TAXASSIST_FILE_STORE_ROOT": str(store_root),
            **database_env(database_of),  # under PostgreSQL, that data dir's database
        }
        get_settings.cache_clear()  # read from this call's env
        try:
            result = CliRunner().invoke(app, [*args, "--json"], env=env)
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    backup = tmp_path / "backup"
    summary = cli("backup", "create", str(backup), store_root=shared, database_of=data_dir)
    assert summary["blobs"] == 3 and summary["file_store"] == str(shared.resolve())
    restored_dir, new_store = tmp_path / "restored", tmp_path / "new-store"
    cli(
        "backup",
        "restore",
        str(backup),
        "--data-dir",
        str(restored_dir),
        store_root=new_store,
        database_of=restored_dir,
    )
    store = FileStore(new_store)
    assert set(store.hashes()) == originals
    for sha256 in originals:
        path = store.path_for(sha256)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
        assert path.read_bytes() == (shared / sha256[:2] / sha256).read_bytes()
    assert not stored_files(restored_dir / "blobs")
    copy = build_services(
        make_settings(restored_dir, seed_demo_users=False, file_store_root=new_store)
    )
    assert verify_record(copy, case_id).ok
    copy.db.engine.dispose()

    again = tmp_path / "again"
    with pytest.raises(Conflict) as occupied:
        restore_backup(backup, again, database_url_for(again / "taxassist.db"), files=store)
    assert occupied.value.code == "restore_target_not_empty"
    assert "文件存储" in occupied.value.message and not stored_files(again)
    assert set(store.hashes()) == originals
