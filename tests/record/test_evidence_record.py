"""Evidence in the signed record: upload and reading are signed events that commit to the file
and to every line read; a change made behind the workflow (a line of the reading, the file's
name, the stored bytes, the row's file) is named by `record verify` (API/CLI: same report), and
the 一户式 archive carries the evidence files and readings to another data directory."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.evidence import add_evidence
from assistant.db.models import Evidence
from assistant.jobs import run_job
from assistant.record.archive import export_archive, import_archive, verify_archive
from assistant.record.service import verify_record
from assistant.services import Services, build_services
from tests.conftest import DEMO_USCC, clone_database, make_settings, requires_shared
from tests.core.test_cli import run_cli
from tests.evidence.scans import decision_pdfs
from tests.record.helpers import credentialed_officer, migrated_template

pytestmark = requires_shared


@dataclass
class EvidenceCase:
    services: Services
    data_dir: Path
    case_id: int
    evidence_id: int
    sha256: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("evidence-template"))


def build(data_dir: Path, template: Path) -> EvidenceCase:
    clone_database(template, data_dir)
    services = build_services(make_settings(data_dir, seed_demo_users=False))
    officer = credentialed_officer(services)
    case = CaseWorkflow(services).create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput(
                name="示例商贸有限公司", id_number=DEMO_USCC, kind="organisation"
            ),
            violation="late_filing",
            facts="该公司增值税纳税申报逾期45日。",
            violation_date=date(2025, 4, 15),
            days_overdue=45,
        ),
    )
    with decision_pdfs()[0].open("rb") as handle:
        upload = add_evidence(services, officer, case.id, handle, filename="决定书.pdf")
    assert run_job(services, upload.job.id) == "succeeded"
    return EvidenceCase(services, data_dir, case.id, upload.evidence.id, upload.evidence.sha256)


def _problems(services: Services, case_id: int) -> set[tuple[str, str | None]]:
    report = verify_record(services, case_id)
    return {(p.kind, p.ref or p.sha256) for p in report.problems}


def _sql(services: Services, statement: str, **params: object) -> None:
    with services.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_evidence_is_covered_and_tampering_is_named(tmp_path: Path, template: Path) -> None:
    built = build(tmp_path / "data", template)
    services, case_id, eid = built.services, built.case_id, built.evidence_id
    report = verify_record(services, case_id)
    assert report.ok and report.files == 1, report.to_dict()

    # through the column's JSON type: a string on SQLite, a json value on PostgreSQL
    with services.db.engine.connect() as connection:
        lines = connection.execute(select(Evidence.lines).where(Evidence.id == eid)).scalar_one()

    def set_lines(value: list[dict[str, object]]) -> None:
        with services.db.engine.begin() as connection:
            connection.execute(update(Evidence).where(Evidence.id == eid).values(lines=value))

    changed = [dict(line) for line in lines]
    changed[5]["text"] = changed[5]["text"].replace("1", "7", 1) + "（改）"
    set_lines(changed)
    assert ("content_altered", f"evidence_reading:{eid}") in _problems(services, case_id)
    cli = run_cli("record", "verify", str(case_id), "--json", data_dir=built.data_dir)
    assert cli.returncode == 2 and f"evidence_reading:{eid}" in cli.stdout
    set_lines(lines)
    assert verify_record(services, case_id).ok

    _sql(services, "UPDATE evidence SET original_filename = '其他.pdf' WHERE id = :i", i=eid)
    assert ("content_altered", f"evidence_file:{eid}") in _problems(services, case_id)
    _sql(services, "UPDATE evidence SET original_filename = '决定书.pdf' WHERE id = :i", i=eid)

    _sql(services, "UPDATE evidence SET status = 'reading' WHERE id = :i", i=eid)
    assert ("content_missing", f"evidence_reading:{eid}") in _problems(services, case_id)
    _sql(services, "UPDATE evidence SET status = 'read' WHERE id = :i", i=eid)

    other = "0" * 64
    _sql(services, "UPDATE evidence SET sha256 = :s WHERE id = :i", s=other, i=eid)
    assert ("file_not_in_record", other) in _problems(services, case_id)
    _sql(services, "UPDATE evidence SET sha256 = :s WHERE id = :i", s=built.sha256, i=eid)
    assert verify_record(services, case_id).ok

    path = services.files.path_for(built.sha256)
    original = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(original.replace(b"%%EOF", b"%%EOF\n%", 1))
    assert ("file_altered", built.sha256) in _problems(services, case_id)
    path.write_bytes(original)
    assert verify_record(services, case_id).ok


def test_archive_carries_evidence_files_and_readings(tmp_path: Path, template: Path) -> None:
    built = build(tmp_path / "source", template)
    data = export_archive(built.services, DEMO_USCC)
    manifest = verify_archive(data)
    rows = manifest["rows"]["evidence"]
    assert [row["id"] for row in rows] == [built.evidence_id]
    assert rows[0]["method"] == "text_layer" and rows[0]["lines"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read(f"files/{built.sha256}") == decision_pdfs()[0].read_bytes()

    fresh_dir = tmp_path / "fresh"
    clone_database(template, fresh_dir)
    fresh = build_services(make_settings(fresh_dir, seed_demo_users=False))
    report = import_archive(fresh, data)
    assert report["ok"], report
    assert verify_record(fresh, built.case_id).ok
    assert fresh.files.verify(built.sha256)
