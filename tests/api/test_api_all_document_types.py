"""Every document type through `POST /cases/{id}/documents` for demo cases.

Each is fact-checked, stored with its 文号 of the type's kind, its .docx has the sections in the
order of the official 文书式样, and it has a PDF. What the record lacks comes from `inputs`;
without it the request is a 422 naming the missing fields.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document as DocxDocument
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.drafting.pdf import RenderingUnavailable, find_fonts
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import DEMO_USCC, demo_case_payload, make_settings

OFFICERS = [
    {"name": "王检查", "certificate": "15010001"},
    {"name": "李检查", "certificate": "15010002"},
]
INPUTS: dict[str, dict[str, object] | None] = {
    "penalty_notice": None,
    "penalty_decision": None,
    "simple_penalty_decision": {
        "place": "示例区办税服务厅",
        "when": "2026-05-10T10:30:00",
        "officers": OFFICERS,
    },
    "tax_handling_decision": {
        "tax_type": "增值税",
        "tax_period_start": "2025-03-01",
        "tax_period_end": "2025-03-31",
        "tax_due_date": "2025-04-15",
        "inspection_start": "2025-06-01",
        "inspection_end": "2025-07-15",
        "payment_place": "国家税务总局示例市示例区税务局",
    },
    "correction_notice": {"correction": "办理2025年3月增值税纳税申报", "deadline": "2099-12-31"},
    "interview_record": {
        "start": "2025-06-03T09:00:00",
        "end": "2025-06-03T10:15:00",
        "place": "国家税务总局示例市税务局稽查局询问室",
        "interviewers": OFFICERS,
        "recorder": "赵记录",
        "interviewee": "张示例",
        "interviewee_id": "150102198001011234",
        "interviewee_role": "示例商贸有限公司法定代表人",
        "utterances": [
            {"speaker": "问", "text": "你单位2025年3月的增值税是否按期申报？"},
            {"speaker": "答", "text": "没有按期申报，后来补办了申报。"},
        ],
    },
}
# Section headings (or leading labels) each type prints, in the order of the real documents.
SECTIONS = {
    "penalty_notice": None,
    "penalty_decision": None,
    "simple_penalty_decision": ["违法事实", "处罚依据及内容", "缴纳方式", "救济途径", "执法人员"],
    "tax_handling_decision": ["一、违法事实", "二、处理决定及依据"],
    "correction_notice": ["事由", "依据", "通知内容"],
    "interview_record": [
        "询问时间",
        "询问地点",
        "询问人",
        "记录人",
        "被询问人",
        "告知",
        "问",
        "答",
    ],
    "legal_review_opinion": ["一、案件基本情况", "二、审核内容", "三、审核意见"],
    "no_penalty_decision": ["一、违法事实及证据", "二、不予处罚的理由及依据"],
}
KIND = {
    "penalty_notice": "罚告〔",
    "penalty_decision": "罚〔",
    "no_penalty_decision": "不罚〔",
    "simple_penalty_decision": "简罚〔",
    "tax_handling_decision": "处〔",
    "correction_notice": "通〔",
    "interview_record": "询〔",
    "legal_review_opinion": "法审〔",
}


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings: Settings = make_settings(tmp_path_factory.mktemp("alltypes") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(app_settings: Settings) -> Iterator[TestClient]:
    with running_app(app_settings) as client:
        yield client


def _case(client: TestClient, officer: dict[str, str], **changes: object) -> int:
    payload = demo_case_payload()
    payload.update(changes)
    case = client.post("/cases", json=payload, headers=officer)
    assert case.status_code == 201, case.text
    case_id: int = case.json()["id"]
    step = client.post(f"/cases/{case_id}/discretion", headers=officer)
    assert step.status_code == 201, step.text
    return case_id


def _paragraphs(client: TestClient, headers: dict[str, str], document_id: int) -> list[str]:
    response = client.get(f"/documents/{document_id}/file", headers=headers)
    assert response.status_code == 200, response.text
    return [p.text for p in DocxDocument(io.BytesIO(response.content)).paragraphs if p.text]


def _in_order(paragraphs: list[str], labels: list[str]) -> None:
    position = -1
    for label in labels:
        found = [i for i, p in enumerate(paragraphs) if p.startswith(label) and i > position]
        assert found, (label, paragraphs)
        position = found[0]


def test_every_type_drafted_through_the_api(client: TestClient) -> None:
    officer = login(client, "officer")
    reviewer = login(client, "reviewer")
    penalty_case = _case(client, officer)
    no_penalty_case = _case(
        client,
        officer,
        first_violation=True,
        days_overdue=5,
        facts="该公司2025年3月增值税纳税申报逾期5日，经责令限期改正后于2025年4月20日补办申报。",
    )
    drafted: dict[str, dict[str, object]] = {}
    for doc_type, inputs in INPUTS.items():
        body: dict[str, object] = {"doc_type": doc_type}
        if inputs is not None:
            body["inputs"] = inputs
        response = client.post(f"/cases/{penalty_case}/documents", json=body, headers=officer)
        assert response.status_code == 201, (doc_type, response.text)
        drafted[doc_type] = response.json()
    review = client.post(
        f"/cases/{penalty_case}/review",
        json={"result": "同意", "opinion": "事实清楚，证据确凿，适用依据正确，程序合法，裁量适当"},
        headers=reviewer,
    )
    assert review.status_code in (200, 201), review.text
    response = client.post(
        f"/cases/{penalty_case}/documents",
        json={"doc_type": "legal_review_opinion"},
        headers=reviewer,
    )
    assert response.status_code == 201, response.text
    drafted["legal_review_opinion"] = response.json()
    response = client.post(
        f"/cases/{no_penalty_case}/documents",
        json={"doc_type": "no_penalty_decision"},
        headers=officer,
    )
    assert response.status_code == 201, response.text
    drafted["no_penalty_decision"] = response.json()

    assert set(drafted) == set(KIND)
    try:
        find_fonts()
        fonts = True
    except RenderingUnavailable:
        fonts = False
    for doc_type, document in drafted.items():
        assert KIND[doc_type] in str(document["number"]), (doc_type, document["number"])
        paragraphs = _paragraphs(client, officer, int(document["id"]))  # type: ignore[arg-type]
        labels = SECTIONS[doc_type]
        if labels:
            _in_order(paragraphs, labels)
        if doc_type != "interview_record":
            assert DEMO_USCC in str(document["text"]), doc_type
            assert str(document["number"]) in paragraphs, doc_type
        if fonts:
            pdf = client.get(f"/documents/{document['id']}/pdf", headers=officer)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), doc_type
    narrative = drafted["penalty_decision"]["provenance"]["narrative"]  # type: ignore[index]
    assert narrative[0] == "template"  # default settings: no model
    assert "审核结论：同意" in str(drafted["legal_review_opinion"]["text"])
    assert "滞纳金" in str(drafted["tax_handling_decision"]["text"])


def test_missing_inputs_are_named(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = _case(client, officer)
    response = client.post(
        f"/cases/{case_id}/documents",
        json={"doc_type": "tax_handling_decision", "inputs": {"tax_type": "增值税"}},
        headers=officer,
    )
    error = assert_error(response, 422, "missing_document_data")
    assert "tax_due_date" in error["details"]["fields"]  # type: ignore[index]
    assert "tax_due_date" in str(error["message"])
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "interview_record"}, headers=officer
    )
    error = assert_error(response, 422, "missing_document_data")
    assert "place" in error["details"]["fields"]  # type: ignore[index]
    # no legal review yet and no opinion given: the reviewer is told what is missing
    reviewer = login(client, "reviewer")
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "legal_review_opinion"}, headers=reviewer
    )
    error = assert_error(response, 422, "missing_document_data")
    assert "conclusion" in error["details"]["fields"]  # type: ignore[index]
    # the handling officer does not write the legal review
    response = client.post(
        f"/cases/{case_id}/documents",
        json={"doc_type": "legal_review_opinion", "inputs": {"conclusion": "同意。"}},
        headers=officer,
    )
    assert response.status_code == 403
    response = client.post(
        f"/cases/{case_id}/documents",
        json={"doc_type": "penalty_decision", "inputs": {"x": 1}},
        headers=officer,
    )
    assert_error(response, 422, "unexpected_document_inputs")


def test_a_retired_type_names_its_replacement(client: TestClient) -> None:
    """The checklist review's separate 意见书 type was retired for `legal_review_opinion`: an old
    client asking for it is told what to send instead (409, not a bare 422 or a 500)."""
    reviewer = login(client, "reviewer")
    case_id = _case(client, login(client, "officer"))
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "review_opinion"}, headers=reviewer
    )
    error = assert_error(response, 409, "retired_document_type")
    assert error["details"] == {"doc_type": "review_opinion", "replacement": "legal_review_opinion"}
    assert "legal_review_opinion" in str(error["message"])


def test_a_checklist_review_writes_the_one_review_opinion(client: TestClient) -> None:
    """Each checklist round drafts a `legal_review_opinion` citing 行政处罚法第五十八条, with the
    round's points, not a second 意见书 type."""
    officer, reviewer = login(client, "officer"), login(client, "reviewer")
    case_id = _case(client, officer)
    for doc_type in ("penalty_notice", "penalty_decision"):
        response = client.post(
            f"/cases/{case_id}/documents", json={"doc_type": doc_type}, headers=officer
        )
        assert response.status_code == 201, response.text
    review = client.post(
        f"/cases/{case_id}/legal-review",
        json={"result": "存在问题", "opinion": "证据不足，请补充询问笔录。"},
        headers=reviewer,
    )
    assert review.status_code == 200, review.text
    documents = client.get(f"/cases/{case_id}/documents", headers=officer).json()
    assert "review_opinion" not in {d["doc_type"] for d in documents}
    (opinion,) = [d for d in documents if d["doc_type"] == "legal_review_opinion"]
    assert "法审〔" in opinion["number"]
    text = str(opinion["text"])
    assert "《中华人民共和国行政处罚法》第五十八条" in text
    assert "（第1次审核）" in text and "存在问题" in text
    assert "证据不足，请补充询问笔录" in text


def _add_recording(settings: Settings, case_id: int, texts: list[str]) -> int:
    """A transcribed recording as the upload step stores it (no audio: only its rows)."""
    from sqlalchemy import select

    from assistant.db.models import Recording, TranscriptSegment, User
    from assistant.services import build_services

    services = build_services(settings)
    try:
        with services.db.session() as session:
            user = session.scalars(select(User).where(User.username == "officer")).one()
            recording = Recording(
                case_id=case_id,
                sha256="0" * 64,
                original_filename="询问录音.wav",
                content_type="audio/wav",
                size_bytes=1,
                duration_seconds=1800.0,
                uploaded_by=user.id,
                segments=[
                    TranscriptSegment(
                        index=i,
                        start=5.0 * i,
                        end=5.0 * i + 5,
                        text=text,
                        avg_logprob=-0.2,
                        no_speech_prob=0.01,
                    )
                    for i, text in enumerate(texts)
                ],
            )
            session.add(recording)
            session.flush()
            return recording.id
    finally:
        services.db.engine.dispose()


def test_interview_record_from_a_labelled_recording(
    client: TestClient, app_settings: Settings
) -> None:
    """问/答 from the transcript, the end time from the recording's length; unlabelled: 422."""
    officer = login(client, "officer")
    case_id = _case(client, officer)
    inputs = {k: v for k, v in INPUTS["interview_record"].items() if k not in ("utterances", "end")}  # type: ignore[union-attr]
    question, answer = "问：你单位3月的增值税为什么没有按期申报？", "答：会计离职，交接时遗漏了。"
    recording_id = _add_recording(app_settings, case_id, [question, answer])
    response = client.post(
        f"/cases/{case_id}/documents",
        json={"doc_type": "interview_record", "inputs": inputs},
        headers=officer,
    )
    assert response.status_code == 201, response.text
    document = response.json()
    assert question in document["text"] and answer in document["text"]
    assert "9时00分至2025年6月3日9时30分" in document["text"]  # 1,800 s of recording
    assert document["provenance"]["utterances"] == [
        f"recording:{recording_id}:0",
        f"recording:{recording_id}:1",
    ]
    _add_recording(app_settings, case_id, ["你单位3月的增值税为什么没有按期申报？"])
    response = client.post(
        f"/cases/{case_id}/documents",
        json={"doc_type": "interview_record", "inputs": inputs},
        headers=officer,
    )
    error = assert_error(response, 422, "missing_document_data")
    assert error["details"]["fields"] == ["utterances"]  # type: ignore[index]
