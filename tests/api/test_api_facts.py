"""One case from an interview recording and a scanned invoice list to a decision draft through
proposed facts, over HTTP with the real Whisper and OCR models: upload both → transcription and
OCR jobs → facts proposed with their sources (the segment and the seconds they were said; the
scan's page and box for the invoice count, amount and tax) → the officer confirms some and
corrects one → discretion suggestion → 决定书. Nothing proposed enters the case before the
confirmation.

The recording is espeak-ng Mandarin (tests/fixtures/make_interview_facts.sh); whisper-base
hears the period, the private account and 这是第一次 but not every word, which is why the
officer's correction is part of the flow rather than a formality. The invoice list is drawn,
turned 2° and blurred by `tests.evidence.scans.invoice_list_scan` (same pixels every run).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from tests.api.apphelpers import (
    assert_error,
    login,
    prepare_data_dir,
    running_app,
    upload_recording,
    wait_for_job,
)
from tests.conftest import DEMO_USCC, make_settings
from tests.evidence.scans import image_bytes, invoice_list_scan, invoice_totals

pytestmark = pytest.mark.e2e

WAV = Path(__file__).resolve().parents[1] / "fixtures" / "interview_facts_zh.wav"
INVOICE_FIELDS = ("invoice_count", "invoice_amount", "invoice_tax_amount")
CASE = {
    "taxpayer": {
        "name": "示例商贸有限公司",
        "id_number": DEMO_USCC,
        "kind": "organisation",
        "legal_representative": "张示例",
    },
    "violation": "tax_evasion",
    "facts": "该公司通过个人账户收取货款，未申报收入，少缴增值税。",
    "violation_date": "2024-06-30",
    "tax_unpaid": "10000.00",
    "evidence": ["营业执照", "银行流水"],
}


@pytest.fixture(scope="module")
def facts_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("facts") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


def _field(proposals: dict[str, Any], name: str) -> dict[str, Any]:
    found = [f for f in proposals["fields"] if f["field"] == name]
    assert found, f"{name} not proposed: {[f['field'] for f in proposals['fields']]}"
    return found[0]


@pytest.fixture(scope="module")
def flow(facts_settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with running_app(facts_settings) as client:
        officer = login(client, "officer")
        case = client.post("/cases", json=CASE, headers=officer)
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        out["recording"] = upload_recording(client, officer, case_id, WAV)
        scan = image_bytes(invoice_list_scan(), "PNG")
        accepted = client.post(
            f"/cases/{case_id}/evidence",
            files={"file": ("发票清单.png", io.BytesIO(scan))},
            data={"title": "发票清单"},
            headers=officer,
        )
        assert accepted.status_code == 202, accepted.text
        job = wait_for_job(client, officer, accepted.json()["job"]["id"], timeout=300)
        assert job["status"] == "succeeded", job
        evidence_id = accepted.json()["evidence"]["id"]
        out["evidence"] = client.get(f"/evidence/{evidence_id}", headers=officer).json()
        out["listing"] = client.get(f"/cases/{case_id}/evidence", headers=officer).json()
        proposals = client.get(f"/cases/{case_id}/facts/proposals", headers=officer)
        assert proposals.status_code == 200, proposals.text
        out["proposals"] = proposals.json()
        out["case_before"] = client.get(f"/cases/{case_id}", headers=officer).json()
        out["events_before"] = client.get(f"/cases/{case_id}/events", headers=officer).json()

        # the officer takes the period's end and 首次 as heard, with their sources, and
        # enters the tax from the books the recording does not state (a correction)
        chosen = []
        for name in ("violation_date", "first_violation", *INVOICE_FIELDS):
            field = _field(out["proposals"], name)
            best = field["candidates"][0]
            chosen.append({"field": name, "value": best["value"], "sources": best["sources"][:1]})
        chosen.append({"field": "tax_unpaid", "value": "48000.00", "proposed": "10000.00"})
        chosen.append({"field": "tax_payable", "value": "600000.00"})
        out["chosen"] = chosen
        confirm = client.post(
            f"/cases/{case_id}/facts/confirm", json={"facts": chosen}, headers=officer
        )
        assert confirm.status_code == 200, confirm.text
        out["case_after"] = confirm.json()
        out["events_after"] = client.get(f"/cases/{case_id}/events", headers=officer).json()
        out["verify"] = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
        check = client.get(f"/cases/{case_id}/evidence-check", headers=officer)
        assert check.status_code == 200, check.text
        out["check"] = check.json()
        suggestion = client.post(f"/cases/{case_id}/discretion", headers=officer)
        assert suggestion.status_code == 201, suggestion.text
        out["suggestion"] = suggestion.json()["payload"]
        decision = client.post(
            f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
        )
        assert decision.status_code == 201, decision.text
        out["decision"] = decision.json()

        # refusals, on the same running app
        segment = out["recording"]["segments"][0]
        bad_source = {
            "kind": "recording",
            "recording_id": out["recording"]["id"] + 99,
            "segment_index": segment["index"],
        }
        moved = dict(_field(out["proposals"], "invoice_amount")["candidates"][0]["sources"][0])
        moved["box"] = [0, 0, 10, 10]
        out["errors"] = {
            "moved_document_source": client.post(
                f"/cases/{case_id}/facts/confirm",
                json={"facts": [{"field": "invoice_amount", "value": "1.00", "sources": [moved]}]},
                headers=officer,
            ),
            "unknown_field": client.post(
                f"/cases/{case_id}/facts/confirm",
                json={"facts": [{"field": "fine", "value": "1"}]},
                headers=officer,
            ),
            "bad_value": client.post(
                f"/cases/{case_id}/facts/confirm",
                json={"facts": [{"field": "violation_date", "value": "2024-13-45"}]},
                headers=officer,
            ),
            "bad_source": client.post(
                f"/cases/{case_id}/facts/confirm",
                json={"facts": [{"field": "days_overdue", "value": 3, "sources": [bad_source]}]},
                headers=officer,
            ),
            "reviewer": client.post(
                f"/cases/{case_id}/facts/confirm",
                json={"facts": [{"field": "days_overdue", "value": 3}]},
                headers=login(client, "reviewer"),
            ),
            "no_case": client.get("/cases/999999/facts/proposals", headers=officer),
            "empty": client.post(
                f"/cases/{case_id}/facts/confirm", json={"facts": []}, headers=officer
            ),
        }
        document = client.post(
            f"/cases/{case_id}/facts/proposals",
            json={
                "documents": [
                    {
                        "text": "经检查，你公司2024年少缴增值税48,000.00元，应纳税额600,000.00元。",
                        "document_id": 7,
                        "page": 2,
                        "box": [10, 20, 300, 40],
                    }
                ]
            },
            headers=officer,
        )
        assert document.status_code == 200, document.text
        out["with_document"] = document.json()
    return out


def test_proposals_carry_the_segment_and_time_they_were_heard(flow: dict[str, Any]) -> None:
    recording = flow["recording"]
    proposals = flow["proposals"]
    assert proposals["stored"] is False
    segments = {s["index"]: s for s in recording["segments"]}
    for name, value in (
        ("violation", "tax_evasion"),
        ("violation_date", "2024-12-31"),
        ("first_violation", True),
    ):
        field = _field(proposals, name)
        assert field["value"] == value, field
        source = field["candidates"][0]["sources"][0]
        assert source["kind"] == "recording" and source["recording_id"] == recording["id"]
        segment = segments[source["segment_index"]]
        assert source["text"] == segment["text"]
        assert source["quote"] in segment["text"]
        assert segment["start"] <= source["start"] <= source["end"] <= segment["end"] + 1e-6
        assert source["start"] <= source["quote_start"] < source["quote_end"] <= source["end"]


def test_nothing_enters_the_case_before_confirmation(flow: dict[str, Any]) -> None:
    before = flow["case_before"]
    assert before["violation_date"] == "2024-06-30"
    assert before["tax_unpaid"] == "10000.00"
    assert before["first_violation"] is False
    assert before["invoice_amount"] in (None, "0.00")
    assert not [e for e in flow["events_before"] if e["action"] == "case_updated"]


def test_confirmation_is_one_signed_update_with_values_and_sources(flow: dict[str, Any]) -> None:
    after = flow["case_after"]
    assert after["violation_date"] == "2024-12-31"
    assert after["first_violation"] is True
    assert after["tax_unpaid"] == "48000.00"
    assert after["tax_payable"] == "600000.00"
    updates = [e for e in flow["events_after"] if e["action"] == "case_updated"]
    assert len(updates) == 1
    details = updates[0]["details"]
    assert details["changes"]["violation_date"] == {"from": "2024-06-30", "to": "2024-12-31"}
    confirmed = {c["field"]: c for c in details["confirmed_facts"]}
    assert set(confirmed) == {
        "violation_date",
        "first_violation",
        "tax_unpaid",
        "tax_payable",
        *INVOICE_FIELDS,
    }
    heard = confirmed["violation_date"]["sources"][0]
    assert heard["recording_id"] == flow["recording"]["id"] and heard["quote"]
    assert confirmed["tax_unpaid"]["corrected"] is True
    assert confirmed["tax_unpaid"]["sources"] == []
    assert flow["verify"]["ok"] is True, flow["verify"]


def test_evidence_check_names_what_is_missing_and_why(flow: dict[str, Any]) -> None:
    check = flow["check"]
    assert check["violation"] == "tax_evasion"
    assert check["complete"] is False
    facts = {f["key"]: f for f in check["facts"]}
    assert facts["tax_unpaid"]["met"] and facts["tax_payable"]["met"]
    assert "税收征收管理法:63:1" in facts["tax_unpaid"]["legal_source"]
    evidence = {e["key"]: e for e in check["evidence"]}
    assert evidence["party_statement"]["by"][0]["recording_id"] == flow["recording"]["id"]
    assert evidence["funds"]["met"] and evidence["party_identity"]["met"]
    assert {"books", "tax_return"} <= set(check["missing"])


def test_discretion_and_decision_follow_the_confirmed_facts(flow: dict[str, Any]) -> None:
    suggestion = flow["suggestion"]
    assert suggestion["decision"] == "penalty"
    assert any(g.startswith("税收征收管理法:63") for g in suggestion["legal_ground"])
    amount = float(suggestion["suggested_amount"])
    assert 0.5 * 48000 <= amount <= 5 * 48000
    assert flow["decision"]["doc_type"] == "penalty_decision"


def test_document_text_is_read_with_page_and_box(flow: dict[str, Any]) -> None:
    tax = _field(flow["with_document"], "tax_unpaid")
    document_sources = [
        s for c in tax["candidates"] for s in c["sources"] if s["kind"] == "document"
    ]
    assert document_sources and document_sources[0]["page"] == 2
    assert document_sources[0]["box"] == [10, 20, 300, 40]
    assert _field(flow["with_document"], "tax_payable")["value"] == "600000.00"


def test_refusals_are_4xx_with_codes(flow: dict[str, Any]) -> None:
    errors = flow["errors"]
    assert_error(errors["moved_document_source"], 404, "source_not_found")
    assert_error(errors["unknown_field"], 422, "unknown_fact_field")
    assert_error(errors["bad_value"], 422, "invalid_fact_value")
    assert_error(errors["bad_source"], 404, "source_not_found")
    assert_error(errors["reviewer"], 403, "role_not_allowed")
    assert_error(errors["no_case"], 404, "case_not_found")
    assert errors["empty"].status_code == 422


def test_the_invoice_list_is_read_by_ocr_and_listed(flow: dict[str, Any]) -> None:
    evidence = flow["evidence"]
    assert evidence["kind"] == "image" and evidence["method"] == "ocr"
    assert evidence["reader"]["box_unit"] == "px"
    item = flow["listing"]["items"][0]
    assert item["id"] == evidence["id"] and item["name"] == "发票清单"
    assert [e["action"] for e in item["provenance"]] == ["evidence_uploaded", "evidence_read"]


def test_invoice_facts_come_from_the_scan_with_page_and_box(flow: dict[str, Any]) -> None:
    """Count, amount and tax as the list's 合计 sentence states them, each pointing at the OCR
    line(s) it was read from: the evidence file, page 1, the line's box in pixels."""
    count, amount, tax = invoice_totals()
    evidence = flow["evidence"]
    width, height = 1300, 900  # the scan's size, turned 2° (tests.evidence.scans)
    lines = {line["text"].strip(): line for line in evidence["lines"]}
    for name, value, figure in (
        ("invoice_count", count, f"{count}份"),
        ("invoice_amount", amount, "128,000.00元"),
        ("invoice_tax_amount", tax, "16,640.00元"),
    ):
        field = _field(flow["proposals"], name)
        assert field["value"] == value, field
        source = field["candidates"][0]["sources"][0]
        assert source["kind"] == "document" and source["document_id"] == evidence["id"]
        assert source["page"] == 1
        assert figure in source["quote"].replace(" ", "") and source["quote"] in source["text"]
        held = [lines[t] for t in source["text"].split("\n")]  # the OCR line(s), as stored
        xs = [x for line in held for x, _ in line["box"]]
        ys = [y for line in held for _, y in line["box"]]
        assert source["box"] == [min(xs), min(ys), max(xs), max(ys)]
        assert 0 <= source["box"][0] < source["box"][2] <= width
        assert 0 <= source["box"][1] < source["box"][3] <= height


def test_confirmed_invoice_facts_keep_their_document_source(flow: dict[str, Any]) -> None:
    count, amount, tax = invoice_totals()
    after = flow["case_after"]
    assert after["invoice_amount"] == amount and after["invoice_tax_amount"] == tax
    update = next(e for e in flow["events_after"] if e["action"] == "case_updated")
    confirmed = {c["field"]: c for c in update["details"]["confirmed_facts"]}
    assert confirmed["invoice_count"]["value"] == count
    assert confirmed["invoice_count"]["in_case"] is False  # kept in the signed record only
    chosen = {c["field"]: c for c in flow["chosen"]}
    for name in INVOICE_FIELDS:
        kept = confirmed[name]["sources"][0]
        given = chosen[name]["sources"][0]
        assert kept["document_id"] == flow["evidence"]["id"] and kept["page"] == 1
        assert kept["box"] == given["box"] and kept["quote"] == given["quote"]
