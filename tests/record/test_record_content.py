"""The record covers the content: a change made directly in the database to a case field, a
step result, a transcript segment or its correction, a document's text, file or revision is
reported by `GET /cases/{id}/record/verify` and `taxassist record verify`, naming the row.

One real case over HTTP (real Whisper transcription, real drafting, real signatures); each
test alters one row with SQL, checks the report, then restores the row and checks it is clean.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, bindparam, create_engine, text

from assistant.config import Settings
from assistant.services import build_services
from tests.api.apphelpers import login, prepare_data_dir, running_app, upload_recording
from tests.conftest import DEMO_USCC, demo_case_payload, make_settings
from tests.core.test_cli import run_cli
from tests.record.helpers import resign_as_pre_upgrade

WAV = Path(__file__).resolve().parents[1] / "fixtures" / "interview_zh.wav"


@dataclass
class Built:
    settings: Settings
    client: TestClient
    officer: dict[str, str]
    case_id: int
    recording_id: int
    result_id: int
    document_id: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Iterator[Built]:
    settings = make_settings(tmp_path_factory.mktemp("record-content") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        officer = login(client, "officer")
        case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
        recording = upload_recording(client, officer, case_id, WAV)
        corrected = client.patch(
            f"/recordings/{recording['id']}/segments/0",
            json={"text": "问：你好，请说明情况。"},
            headers=officer,
        )
        assert corrected.status_code == 200, corrected.text
        result = client.post(f"/cases/{case_id}/discretion", headers=officer)
        assert result.status_code == 201, result.text
        drafted = client.post(
            f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
        ).json()
        lines = drafted["text"].split("\n")
        at = lines.index("一、违法事实及证据") + 1
        lines[at] = "经查，" + lines[at]
        edited = client.post(
            f"/documents/{drafted['id']}/revisions",
            json={"text": "\n".join(lines)},
            headers=officer,
        )
        assert edited.status_code == 201, edited.text
        yield Built(
            settings,
            client,
            officer,
            case_id,
            recording["id"],
            result.json()["id"],
            drafted["id"],
        )


def _sql(settings: Settings, statement: str, **params: Any) -> list[Any]:
    """Run `statement` behind the application's back; a dict or list binds as JSON (the
    original of a JSON column, as PostgreSQL's driver returned it)."""
    engine = create_engine(settings.resolved_database_url)
    query = text(statement).bindparams(
        *(bindparam(k, type_=JSON) for k, v in params.items() if isinstance(v, dict | list))
    )
    try:
        with engine.begin() as conn:
            result = conn.execute(query, params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def _dialect(settings: Settings) -> str:
    return "sqlite" if settings.resolved_database_url.startswith("sqlite") else "postgresql"


def _verify(built: Built) -> dict[str, Any]:
    response = built.client.get(f"/cases/{built.case_id}/record/verify", headers=built.officer)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Change:
    name: str
    table: str
    column: str
    where: str  # SQL condition, formatted with the built ids
    new: str  # SQL expression for the altered value
    ref: str  # the content reference the problem must name
    new_postgresql: str = ""  # the same in PostgreSQL's spelling, where it differs

    def condition(self, b: Built) -> str:
        return self.where.format(b=b)


CHANGES = [
    Change(
        "case tax_unpaid",
        "cases",
        "tax_unpaid",
        "id={b.case_id}",
        "tax_unpaid/10",
        "case.tax_unpaid",
    ),
    Change("case facts", "cases", "facts", "id={b.case_id}", "'该公司已按期申报。'", "case.facts"),
    Change(
        "taxpayer name",
        "taxpayers",
        "name",
        "id=(SELECT taxpayer_id FROM cases WHERE id={b.case_id})",
        "'另一家公司'",
        "case.taxpayer.name",
    ),
    Change(
        "discretion suggested_amount",
        "case_results",
        "payload",
        "id={b.result_id}",
        "json_set(payload, '$.suggested_amount', '1.00')",
        "result:{b.result_id}",
        new_postgresql="jsonb_set(payload::jsonb, '{{suggested_amount}}', '\"1.00\"')::json",
    ),
    Change(
        "machine segment text",
        "transcript_segments",
        "text",
        'recording_id={b.recording_id} AND "index"=1',
        "'答：我没有逾期申报。'",
        "segment:{b.recording_id}:1",
    ),
    Change(
        "segment correction text",
        "segment_revisions",
        "text",
        "recording_id={b.recording_id} AND segment_index=0 AND version=1",
        "'问：篡改。'",
        "segment_revision:{b.recording_id}:0:1",
    ),
    Change(
        "document text",
        "documents",
        "text",
        "id={b.document_id}",
        "replace(text, '经查，', '')",
        "document_text:{b.document_id}",
    ),
    Change(
        "document rolled back to its first file",
        "documents",
        "sha256",
        "id={b.document_id}",
        "(SELECT sha256 FROM document_revisions WHERE document_id={b.document_id} AND revision=1)",
        "document_file:{b.document_id}",
    ),
    Change(
        "document revision text",
        "document_revisions",
        "text",
        "document_id={b.document_id} AND revision=1",
        "text || '补充'",
        "document_revision:{b.document_id}:1",
    ),
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_a_content_change_in_the_database_fails_verification(built: Built, change: Change) -> None:
    assert _verify(built)["ok"] is True
    where = change.condition(built)
    (original,) = _sql(built.settings, f"SELECT {change.column} FROM {change.table} WHERE {where}")
    new = change.new_postgresql if _dialect(built.settings) == "postgresql" else ""
    _sql(
        built.settings,
        f"UPDATE {change.table} SET {change.column}={(new or change.new).format(b=built)} "
        f"WHERE {where}",
    )
    try:
        report = _verify(built)
        assert report["ok"] is False
        ref = change.ref.format(b=built)
        altered = [p for p in report["problems"] if p["kind"] == "content_altered"]
        assert [p["ref"] for p in altered] == [ref], report["problems"]
        assert altered[0]["seq"] is not None and "被修改" in altered[0]["message"]
    finally:
        _sql(
            built.settings,
            f"UPDATE {change.table} SET {change.column}=:v WHERE {where}",
            v=original[0],
        )
    assert _verify(built)["ok"] is True


def test_the_cli_names_a_changed_amount_and_exits_2(built: Built) -> None:
    where = f"id={built.case_id}"
    _sql(built.settings, f"UPDATE cases SET tax_unpaid=tax_unpaid*2 WHERE {where}")
    try:
        out = run_cli("record", "verify", str(built.case_id), data_dir=built.settings.data_dir)
        assert out.returncode == 2, out.stdout + out.stderr
        assert "[content_altered]" in out.stdout and "tax_unpaid" in out.stdout
        timeline = built.client.get(f"/cases/{built.case_id}/timeline", headers=built.officer)
        body = timeline.json()
        assert body["verified"] is False and body["content_covered"] is True
        assert body["events"][-1]["problems"] == ["content_altered"]
    finally:
        _sql(built.settings, f"UPDATE cases SET tax_unpaid=tax_unpaid/2 WHERE {where}")


def test_a_deleted_or_unrecorded_result_fails_verification(built: Built) -> None:
    (row,) = _sql(
        built.settings,
        "SELECT case_id, step, payload, created_by, created_at FROM case_results WHERE id=:i",
        i=built.result_id,
    )
    _sql(built.settings, "DELETE FROM case_results WHERE id=:i", i=built.result_id)
    try:
        report = _verify(built)
        assert [p["kind"] for p in report["problems"]] == ["content_missing"]
        assert report["problems"][0]["ref"] == f"result:{built.result_id}"
    finally:
        _sql(
            built.settings,
            "INSERT INTO case_results (id, case_id, step, payload, created_by, created_at) "
            "VALUES (:i, :c, :s, :p, :u, :t)",
            i=built.result_id,
            c=row[0],
            s=row[1],
            p=row[2],
            u=row[3],
            t=row[4],
        )
    _sql(
        built.settings,
        "INSERT INTO case_results (case_id, step, payload, created_by, created_at) "
        "VALUES (:c, 'discretion', :p, :u, :t)",
        c=row[0],
        p=row[2],
        u=row[3],
        t=row[4],
    )
    try:
        report = _verify(built)
        assert [p["kind"] for p in report["problems"]] == ["content_not_in_record"]
    finally:
        _sql(
            built.settings,
            "DELETE FROM case_results WHERE case_id=:c AND id<>:i",
            c=built.case_id,
            i=built.result_id,
        )
    assert _verify(built)["ok"] is True


def test_events_before_content_hashes_are_reported_not_covered(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    """A record from before the upgrade: its events verify, its content is "not covered"."""
    settings = make_settings(tmp_path / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        officer = login(client, "officer")
        case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
        assert client.post(f"/cases/{case_id}/discretion", headers=officer).status_code == 201
    resign_as_pre_upgrade(build_services(settings), case_id)
    _sql(settings, "UPDATE cases SET tax_unpaid=1 WHERE id=:i", i=case_id)
    out = run_cli("record", "verify", str(case_id), "--json", data_dir=settings.data_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True and report["content_covered"] is False
    assert [n["kind"] for n in report["notes"]] == ["content_not_covered"]
    assert "第1–2号" in report["notes"][0]["message"]


def test_an_archive_carries_corrections_and_revisions_and_still_verifies(
    built: Built, tmp_path: Path, shared_index_dir: Path
) -> None:
    """The archive holds segment corrections and document revisions, so the imported record's
    content checks pass (without them the committed revisions would be missing)."""
    admin = login(built.client, "admin")
    exported = built.client.get(f"/archives/{DEMO_USCC}", headers=admin)
    assert exported.status_code == 200, exported.text
    rows = json.loads(zipfile.ZipFile(io.BytesIO(exported.content)).read("manifest.json"))["rows"]
    assert rows["segment_revisions"] and len(rows["document_revisions"]) == 2
    target = make_settings(tmp_path / "target")
    prepare_data_dir(target, shared_index_dir)
    with running_app(target) as client:
        admin = login(client, "admin")
        files = {"file": ("a.zip", exported.content)}
        imported = client.post("/archives/import", files=files, headers=admin)
        assert imported.status_code == 201, imported.text
        report = client.get(f"/cases/{built.case_id}/record/verify", headers=admin).json()
    assert report["ok"] is True and report["content_covered"] is True, report["problems"]
