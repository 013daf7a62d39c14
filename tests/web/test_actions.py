"""The case page's actions through the real app (TestClient): transcript correction and speaker
relabelling, the upload's refusals, the job's event stream by cookie, escalation of a disputed
review, record verification and the 一户式 archive. Each refusal shows the API's message beside
its field with the values kept; each role is refused what it may not do, nothing changed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.cases.lifecycle import STAGES
from assistant.config import Settings
from tests.api.apphelpers import prepare_data_dir, running_app
from tests.conftest import make_settings
from tests.web.webhelpers import csrf_of, post_form, sign_in, web_case_form

UNKNOWN = "【无法识别】"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("web-actions") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with running_app(settings) as client:
        yield client


def new_case(client: TestClient) -> int:
    sign_in(client, "officer")
    response = post_form(client, "/workbench/cases/new", "/workbench/cases/new", web_case_form())
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def add_transcript(
    client: TestClient, case_id: int, job_status: str = "succeeded"
) -> tuple[int, int]:
    """A transcribed recording's rows as the transcription job stores them, and its job (no
    audio decoded: these tests are about the page, the model has its own tests)."""
    from assistant.db.models import Job, Recording, TranscriptSegment, User

    services = client.app.state.services  # type: ignore[attr-defined]
    sha256, _, _ = services.files.put_bytes(b"RIFF-not-decoded-in-these-tests")
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()
        words = [
            {"start": 0.0, "end": 0.5, "word": "我们", "probability": 0.95},
            {"start": 0.5, "end": 1.0, "word": "开具", "probability": 0.31},
            {"start": 1.0, "end": 2.0, "word": "了发票", "probability": 0.9},
        ]
        recording = Recording(
            case_id=case_id,
            sha256=sha256,
            original_filename="询问录音.wav",
            content_type="audio/wav",
            size_bytes=1,
            duration_seconds=15.0,
            uploaded_by=officer.id,
            status="transcribed" if job_status == "succeeded" else "transcribing",
            segments=[
                TranscriptSegment(
                    index=0,
                    start=0.0,
                    end=2.0,
                    text="我们开具了发票",
                    avg_logprob=-0.3,
                    no_speech_prob=0.01,
                    speaker="问",
                    words=words,
                ),
                TranscriptSegment(
                    index=1,
                    start=2.0,
                    end=5.0,
                    text=f"是{UNKNOWN}公司",
                    avg_logprob=-1.2,
                    no_speech_prob=0.01,
                ),
                TranscriptSegment(
                    index=2, start=5.0, end=9.0, text="好的", avg_logprob=-0.2, no_speech_prob=0.0
                ),
            ],
        )
        session.add(recording)
        session.flush()
        job = Job(
            kind="transcription",
            case_id=case_id,
            recording_id=recording.id,
            status=job_status,
            progress=1.0 if job_status == "succeeded" else 0.4,
            created_by=officer.id,
        )
        session.add(job)
        session.flush()
        return recording.id, job.id


def error_beside(page: str, field: str) -> str:
    match = re.search(rf'id="{re.escape(field)}-error">([^<]+)<', page)
    assert match, f"no message beside {field}"
    return html.unescape(match.group(1))


def test_transcript_marks_words_and_corrections_keep_the_machine_text(client: TestClient) -> None:
    case_id = new_case(client)
    recording_id, _ = add_transcript(client, case_id)
    page_path = f"/workbench/cases/{case_id}"
    page = client.get(page_path).text
    assert '<mark class="low" title="低置信度，请听录音核对">开具</mark>' in page
    assert f'<mark class="unknown" title="无法可靠识别，请听录音补记">{UNKNOWN}</mark>' in page
    assert page.count('class="edit"') == 3  # the handling officer may correct each segment

    # the correction form: swapped in by htmx alone, or the whole page without script
    edit = f"/workbench/recordings/{recording_id}/segments/1/edit"
    alone = client.get(edit, headers={"hx-request": "true"})
    assert alone.status_code == 200 and "<html" not in alone.text
    assert f'id="seg-{recording_id}-1-text"' in alone.text and "autofocus" in alone.text
    whole = client.get(edit)
    assert "<html" in whole.text and f'id="seg-{recording_id}-1-text"' in whole.text
    assert client.get(f"/workbench/recordings/{recording_id}/segments/9/edit").status_code == 404

    action = f"/workbench/recordings/{recording_id}/segments/1"
    empty = post_form(client, page_path, action, {"text": "   ", "speaker": "答"})
    assert empty.status_code == 422
    assert error_beside(empty.text, f"seg-{recording_id}-1-text") == "更正后的文字不能为空。"
    assert 'value="答"' in empty.text  # what was typed is still there
    long_text = "发" * 2001
    too_long = post_form(client, page_path, action, {"text": long_text, "speaker": ""})
    assert too_long.status_code == 422
    assert "过长" in error_beside(too_long.text, f"seg-{recording_id}-1-text")
    assert long_text in too_long.text

    done = post_form(client, page_path, action, {"text": "是示例商贸公司", "speaker": "答"})
    assert done.status_code == 303
    assert done.headers["location"] == f"{page_path}#seg-{recording_id}-1"
    page = client.get(page_path).text
    assert "是示例商贸公司" in page and "已更正（第 1 版）" in page
    assert UNKNOWN not in page.split(f'id="seg-{recording_id}-1"')[1].split("</li>")[0]
    timeline = client.get(f"{page_path}/timeline", headers={"HX-Request": "true"}).text
    assert "segments_corrected" not in timeline and "更正转写" in timeline  # signed, named

    # relabelling: every unlabelled segment gets 答; an unknown label is refused beside it
    relabel = f"/workbench/recordings/{recording_id}/speakers"
    unknown = post_form(client, page_path, relabel, {"old": "证人", "new": "被询问人"})
    assert unknown.status_code == 422
    assert error_beside(unknown.text, f"relabel-old-{recording_id}") == "没有标为“证人”的段落。"
    assert 'value="被询问人"' in unknown.text
    blank = post_form(client, page_path, relabel, {"old": "", "new": " "})
    assert blank.status_code == 422
    assert "relabel-new" in blank.text and "请求内容不符合要求：new" in blank.text
    relabelled = post_form(client, page_path, relabel, {"old": "", "new": "答"})
    assert relabelled.status_code == 303
    segment_2 = client.get(page_path).text.split(f'id="seg-{recording_id}-2"')[1]
    assert '<span class="speaker">答</span>' in segment_2.split("</li>")[0]

    # the reviewer reads the transcript but may not change it; neither may a forged form
    sign_in(client, "reviewer")
    page = client.get(page_path).text
    assert 'class="edit"' not in page and "/speakers" not in page
    assert client.get(f"/workbench/recordings/{recording_id}/segments/1/edit").status_code == 403
    refused = post_form(client, page_path, action, {"text": "改掉", "speaker": ""})
    assert refused.status_code == 403 and "role_not_allowed" in refused.text
    sign_in(client, "officer")
    forged = client.post(action, data={"text": "改掉"}, follow_redirects=False)
    assert forged.status_code == 403
    assert "改掉" not in client.get(page_path).text


def test_upload_refusals_and_the_job_stream_by_cookie(client: TestClient) -> None:
    case_id = new_case(client)
    page_path = f"/workbench/cases/{case_id}"
    token = csrf_of(client.get(page_path).text)
    files = {"file": ("notes.txt", b"not a recording at all", "text/plain")}
    scripted = client.post(
        f"{page_path}/recordings",
        data={"csrf_token": token},
        files=files,
        headers={"accept": "application/json"},
    )
    assert 400 <= scripted.status_code < 500
    body = scripted.json()
    assert body["code"] and body["message"]
    plain = client.post(
        f"{page_path}/recordings", data={"csrf_token": token}, files=files, follow_redirects=False
    )
    assert plain.status_code == scripted.status_code
    assert html.escape(body["message"], quote=False) in plain.text
    assert "尚无录音" in client.get(page_path).text  # nothing stored

    _, job_id = add_transcript(client, case_id)
    stream = client.get(f"/workbench/jobs/{job_id}/events")
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = re.findall(r"^event: (\w+)$", stream.text, flags=re.M)
    assert events == ["segment", "segment", "segment", "progress", "done"]
    again = client.get(f"/workbench/jobs/{job_id}/events", headers={"Last-Event-ID": "1"})
    assert re.findall(r"^event: (\w+)$", again.text, flags=re.M) == ["segment", "progress", "done"]

    _, running = add_transcript(client, case_id, job_status="running")
    page = client.get(page_path).text
    assert f'data-events="/workbench/jobs/{running}/events"' in page
    assert "正在转写… 40%" in page

    # another officer reads the case's stream but may not upload to it; the leader neither
    for username, code in (("officer2", "not_case_officer"), ("approver", "role_not_allowed")):
        sign_in(client, username)
        assert client.get(f"/workbench/jobs/{job_id}/events").status_code == 200
        token = csrf_of(client.get(page_path).text)
        refused = client.post(
            f"{page_path}/recordings",
            data={"csrf_token": token},
            files=files,
            headers={"accept": "application/json"},
        )
        assert refused.status_code == 403 and refused.json()["code"] == code
    client.cookies.clear()
    assert client.get(f"/workbench/jobs/{job_id}/events", follow_redirects=False).status_code == 303


def reviewed_with_problems(client: TestClient) -> str:
    case_id = new_case(client)
    page = f"/workbench/cases/{case_id}"
    assert post_form(client, page, f"{page}/steps/discretion", {}).status_code == 303
    for doc_type in ("penalty_notice", "penalty_decision"):
        draft = {"doc_type": doc_type, "inputs": ""}
        assert post_form(client, page, f"{page}/drafts", draft).status_code == 303
    sign_in(client, "reviewer")
    checklist = client.get(page).text
    manual = {m: "on" for m in re.findall(r'name="(point-[a-z_]+)"', checklist)}
    assert manual
    # 存在问题 without the written opinion: refused beside the opinion, the ticks kept
    missing = post_form(
        client, page, f"{page}/review", {"form": "review", "result": "存在问题", **manual}
    )
    assert missing.status_code == 422
    assert error_beside(missing.text, "review-opinion") == "审核存在问题时必须填写书面意见。"
    for point in manual:
        assert re.search(rf'name="{point}" checked', missing.text), point
    assert re.search(r'value="存在问题" checked', missing.text)
    failed = post_form(
        client,
        page,
        f"{page}/review",
        {"form": "review", "result": "存在问题", "opinion": "证据不足，请补充询问笔录。", **manual},
    )
    assert failed.status_code == 303, failed.text
    return page


def test_a_disputed_review_is_escalated_and_decided_by_the_unit_leader(client: TestClient) -> None:
    page = reviewed_with_problems(client)
    # the reviewer may not escalate: the line says why
    assert "不可办理" in client.get(page).text.split("对审核意见提请协调</strong>")[1][:300]

    sign_in(client, "officer")
    html_page = client.get(page).text
    assert 'id="escalate-reason"' in html_page
    empty = post_form(client, page, f"{page}/escalation", {"form": "escalate", "reason": "  "})
    assert empty.status_code == 422
    assert "书面说明" in error_beside(empty.text, "escalate-reason")
    escalated = post_form(
        client,
        page,
        f"{page}/escalation",
        {"form": "escalate", "reason": "询问笔录已附卷，证据充分。"},
    )
    assert escalated.status_code == 303, escalated.text
    html_page = client.get(page).text
    assert "待 承办机构负责人 协调或决定" in html_page and "询问笔录已附卷" in html_page
    blocked = html_page.split("协调/决定审核意见分歧</strong>")[1][:300]
    assert "不可办理" in blocked  # the handling officer may not decide their own dispute

    sign_in(client, "approver")
    html_page = client.get(page).text
    outcomes = re.findall(r'name="outcome" value="(\w+)"', html_page)
    assert outcomes == ["uphold", "support"]  # 采纳 is the principal's, not the unit leader's
    no_outcome = post_form(
        client,
        page,
        f"{page}/escalation/decision",
        {"form": "decide_escalation", "opinion": "维持。"},
    )
    assert no_outcome.status_code == 422
    assert "outcome" in error_beside(no_outcome.text, "escalation-outcome")
    assert ">维持。</textarea>" in no_outcome.text
    decided = post_form(
        client,
        page,
        f"{page}/escalation/decision",
        {"form": "decide_escalation", "outcome": "uphold", "opinion": "维持审核意见，请补正。"},
    )
    assert decided.status_code == 303, decided.text
    html_page = client.get(page).text
    assert "维持法制审核意见" in html_page
    stage = re.search(r'<span class="stage">([^<]+)</span>', html_page)
    assert stage and stage.group(1) == STAGES["review_failed"]


def test_record_verification_and_the_archive_are_on_the_case_page(client: TestClient) -> None:
    case_id = new_case(client)
    page = f"/workbench/cases/{case_id}"
    html_page = client.get(page).text
    assert f'hx-get="{page}/record/verify"' in html_page
    assert f"{page}/archive" not in html_page and "一户式档案由管理员导出" in html_page
    result = client.get(f"{page}/record/verify", headers={"hx-request": "true"})
    assert result.status_code == 200 and "<html" not in result.text
    assert "✓ 验证通过：1 个事件" in result.text
    assert "✓ 验证通过" in client.get(f"{page}/record/verify").text  # without script

    refused = client.get(f"{page}/archive")
    assert refused.status_code == 403 and "只有管理员可以执行此操作" in refused.text

    sign_in(client, "admin")
    assert f"{page}/archive" in client.get(page).text
    archive: Any = client.get(f"{page}/archive")
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    assert archive.content[:2] == b"PK"
    assert 'filename="91150100MA0N7Y2K37.zip"' in archive.headers["content-disposition"]
    assert client.get("/workbench/cases/999999/archive").status_code == 404


def test_marked_text_marks_unsure_words_while_they_spell_the_text() -> None:
    from api.web.actions import marked_text
    from assistant.cases.transcripts import CurrentSegment
    from assistant.transcription.backend import Word

    words = (Word(0, 1, " 我们", 0.9), Word(1, 2, "虚开", 0.3), Word(2, 3, "了发票", 0.95))
    machine = CurrentSegment(
        0, 0.0, 3.0, "我们虚开了发票", -0.5, None, 0, "我们虚开了发票", None, words
    )
    assert marked_text(machine) == [("我们", ""), ("虚开", "low"), ("了发票", "")]
    # an officer's text no longer matches the words: only placeholders are marked
    corrected = CurrentSegment(
        0, 0.0, 3.0, f"我们开具了{UNKNOWN}", 0.0, None, 1, "我们虚开了发票", None, words
    )
    assert marked_text(corrected) == [("我们开具了", ""), (UNKNOWN, "unknown")]


def api_case(client: TestClient, *, approve: bool, **facts: Any) -> int:
    """A case opened and analysed through the API (drafted, reviewed and approved where its
    suggestion is a penalty and `approve`), as the earlier steps' own tests do on the page."""
    from tests.api.apphelpers import login
    from tests.conftest import demo_case_payload

    officer = login(client, "officer")
    case = client.post("/cases", json={**demo_case_payload(), **facts}, headers=officer).json()
    client.post(f"/cases/{case['id']}/discretion", headers=officer).raise_for_status()
    if approve:
        for doc_type in ("penalty_notice", "penalty_decision"):
            body = {"doc_type": doc_type}
            client.post(f"/cases/{case['id']}/documents", json=body, headers=officer)
        review = {"result": "同意"}
        reviewer, approver = login(client, "reviewer"), login(client, "approver")
        client.post(f"/cases/{case['id']}/review", json=review, headers=reviewer)
        client.post(f"/cases/{case['id']}/approve", json={}, headers=approver).raise_for_status()
    return int(case["id"])


def act_on_page(client: TestClient, case_id: int, action: str, form: dict[str, str]) -> Any:
    page = f"/workbench/cases/{case_id}"
    return post_form(client, page, f"{page}/lifecycle/{action}", {"form": action, **form})


def action_line(page: str, name: str) -> str:
    """The lifecycle list's line of the action named `name` (its form, or why not)."""
    line = re.search(r"<li class=\"(?:allowed|blocked)\">\s*<strong>" + re.escape(name), page)
    assert line, name
    return page[line.start() : page.index("</li>", line.start())]


def test_hearing_notice_and_record_through_the_case_page(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """听证: the party's request, the notice with its chair and date, the hearing's record;
    each refused beside its field with the guard's article, or shown as not yet possible."""
    from datetime import timedelta

    from assistant.dates import today_in_china
    from tests.api.apphelpers import login

    case_id = api_case(client, approve=True, violation="tax_evasion", tax_unpaid="30000.00")
    page = f"/workbench/cases/{case_id}"
    notify = client.post(
        f"/cases/{case_id}/lifecycle/notify", json={}, headers=login(client, "officer")
    )
    notify.raise_for_status()
    sign_in(client, "officer")
    officer_view = client.get(page).text
    assert (
        "通知听证（指定主持人）" in officer_view
        and 'id="schedule_hearing-chair"' not in officer_view
    )
    assert act_on_page(client, case_id, "request_hearing", {}).status_code == 303

    sign_in(client, "approver")
    today = today_in_china()
    week = (today + timedelta(days=7)).isoformat()
    form = {"hearing_on": today.isoformat(), "chair": "reviewer", "place": "第一听证室"}
    early = act_on_page(client, case_id, "schedule_hearing", form)
    assert early.status_code == 409
    message = error_beside(early.text, "schedule_hearing-hearing_on")
    assert "7日前" in message and "行政处罚法第六十四条" in message, message
    assert 'value="第一听证室"' in early.text  # the values entered are kept
    investigator = act_on_page(
        client, case_id, "schedule_hearing", {**form, "hearing_on": week, "chair": "officer"}
    )
    assert investigator.status_code == 409
    assert "不得由本案调查人员担任" in error_beside(investigator.text, "schedule_hearing-chair")
    done = act_on_page(client, case_id, "schedule_hearing", {**form, "hearing_on": week})
    assert done.status_code == 303, done.text

    sign_in(client, "reviewer")  # the designated chair: not before the notified day
    before = action_line(client.get(page).text, "举行听证")
    assert "不可办理" in before and "晚于今天" in before
    monkeypatch.setattr(
        "assistant.cases.lifecycle.today_in_china", lambda: today + timedelta(days=7)
    )
    on_the_day = client.get(page).text
    assert f'id="hold_hearing-on" name="on" value="{week}"' in on_the_day
    no_record = act_on_page(client, case_id, "hold_hearing", {"on": week, "record": " "})
    assert no_record.status_code == 409
    assert "听证应当制作笔录" in error_beside(no_record.text, "hold_hearing-record")
    record = {"on": week, "record": "听证笔录：当事人到场陈述申辩。"}
    assert act_on_page(client, case_id, "hold_hearing", record).status_code == 303
    assert STAGES["heard"] in client.get(page).text
    timeline = client.get(f"{page}/timeline", headers={"HX-Request": "true"}).text
    for event in ("申请听证", "通知听证", "举行听证"):
        assert f"<td>{event}</td>" in timeline


def test_referral_through_the_case_page(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """移送: the officer's report; without a configured bureau head the approval is shown as
    not possible with the rule's article; the head approves or refuses (reason required), and
    the police's refusal brings the case back, each refused beside its field first."""
    case_id = api_case(client, approve=False, violation="tax_evasion", tax_unpaid="600000.00")
    page = f"/workbench/cases/{case_id}"
    sign_in(client, "officer")
    assert (
        act_on_page(client, case_id, "refer", {"report": "涉嫌逃税，数额较大。"}).status_code == 303
    )
    sign_in(client, "approver")
    blocked = action_line(client.get(page).text, "批准移送司法机关")
    assert "不可办理" in blocked and "本局未配置正职负责人" in blocked and "依据" in blocked

    services = client.app.state.services  # type: ignore[attr-defined]
    monkeypatch.setattr(services.settings, "principal_usernames", "approver")
    no_reason = act_on_page(client, case_id, "reject_referral", {"reason": ""})
    assert no_reason.status_code == 409
    assert "理由" in error_beside(no_reason.text, "reject_referral-reason")
    back = act_on_page(client, case_id, "reject_referral", {"reason": "证据不足以证明涉嫌犯罪"})
    assert back.status_code == 303
    sign_in(client, "officer")
    assert act_on_page(client, case_id, "refer", {"report": ""}).status_code == 303
    sign_in(client, "approver")
    assert act_on_page(client, case_id, "approve_referral", {"reason": ""}).status_code == 303
    assert STAGES["referred"] in client.get(page).text
    sign_in(client, "officer")
    silent = act_on_page(client, case_id, "police_declined", {"notice": ""})
    assert silent.status_code == 409
    assert "不予立案通知书" in error_beside(silent.text, "police_declined-notice")
    notice = {"notice": "某公安局不予立案通知书（某公刑不立字〔2026〕1号）"}
    assert act_on_page(client, case_id, "police_declined", notice).status_code == 303
    assert STAGES["investigating"] in client.get(page).text


def test_measures_and_remedies_through_the_case_page(client: TestClient) -> None:
    """强制 and 救济 forms: a method of the other article refused beside its field with the
    values kept; the measure recorded with its masked 强制 draft; a result blocked until an
    application is recorded; a 复议 against the measure revokes it and withdraws its draft; a
    role that may not record sees every form blocked with the reason."""
    from assistant.db.models import Publication

    case_id = new_case(client)
    page = f"/workbench/cases/{case_id}"
    measure = {
        "form": "measure",
        "measure": "execution",
        "method": "seize_property",  # 第三十八条's, not 第四十条's
        "document_number": "示税执〔2026〕7号",
        "amount": "800.00",
    }
    wrong = post_form(client, page, f"{page}/measures", measure)
    assert wrong.status_code == 422
    assert "第四十条" in error_beside(wrong.text, "measure-method")
    assert 'value="示税执〔2026〕7号"' in wrong.text and 'value="800.00"' in wrong.text
    blocked = action_line(client.get(page).text, "登记复议决定")
    assert "不可办理" in blocked and "请先登记申请" in blocked
    taken = post_form(client, page, f"{page}/measures", {**measure, "method": "auction_property"})
    assert taken.status_code == 303, taken.text
    shown = client.get(page).text
    assert "税收强制执行决定书（示税执〔2026〕7号）" in shown
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        [draft] = session.scalars(select(Publication).where(Publication.case_id == case_id))
        assert (draft.kind, draft.status) == ("强制", "draft")
        draft_id, event_id = draft.id, draft.event_id

    apply = {"form": "reconsideration", "body": "", "measure_event_id": str(event_id)}
    empty = post_form(client, page, f"{page}/remedies/reconsideration", apply)
    assert empty.status_code == 422 and error_beside(empty.text, "reconsideration-body")
    apply["body"] = "国家税务总局示例市税务局"
    assert post_form(client, page, f"{page}/remedies/reconsideration", apply).status_code == 303
    now = client.get(page).text
    assert "尚未登记结果" in action_line(now, "登记行政复议申请")
    result = {"form": "reconsideration-result", "result": "撤销", "on": "2000-01-01"}
    early = post_form(client, page, f"{page}/remedies/reconsideration/result", result)
    assert early.status_code == 422
    assert "申请日期" in error_beside(early.text, "reconsideration-result-on")
    del result["on"]
    done = post_form(client, page, f"{page}/remedies/reconsideration/result", result)
    assert done.status_code == 303
    assert "已撤回相应公示" in client.get(page).text
    with services.db.session() as session:
        row = session.get(Publication, draft_id)
        assert row is not None and (row.status, row.withdrawal_reason) == ("withdrawn", "revoked")

    sign_in(client, "reviewer")
    for name in ("登记税收强制措施", "登记行政诉讼（起诉）"):
        assert "只有承办人、负责人或管理员" in action_line(client.get(page).text, name)
    sign_in(client, "officer")


def test_a_measures_record_withdrawn_as_inaccurate_is_drafted_again_on_the_case_page(
    client: TestClient,
) -> None:
    """The measure's line shows its public record; after a withdrawal as inaccurate it offers
    重新生成公示稿, which drafts through `POST /publications`'s function (the withdrawn record
    kept); a second post is refused with that route's 409 while the new draft is active."""
    from assistant.db.models import Publication
    from tests.api.apphelpers import login

    case_id = new_case(client)
    page = f"/workbench/cases/{case_id}"
    measure = {"form": "measure", "measure": "preservation", "method": "freeze_deposit"}
    assert post_form(client, page, f"{page}/measures", measure).status_code == 303
    line = action_line(client.get(page).text, "强制措施公示")
    assert "公示稿待审核" in line and "重新生成公示稿" not in line
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        [row] = session.scalars(select(Publication).where(Publication.case_id == case_id))
        first, event_id = row.id, row.event_id
    api = login(client, "officer")
    assert client.post(f"/publications/{first}/publish", headers=api).status_code == 200
    wrong = {"reason": "inaccurate", "note": "措施方式有误"}
    assert client.post(f"/publications/{first}/withdraw", json=wrong, headers=api).is_success
    line = action_line(client.get(page).text, "强制措施公示")
    assert "公示已撤回（公开信息不准确，予以更正）" in line and "重新生成公示稿" in line
    redraft = {"form": f"redraft-{event_id}", "measure_event_id": str(event_id)}
    assert post_form(client, page, f"{page}/publications", redraft).status_code == 303
    line = action_line(client.get(page).text, "强制措施公示")
    assert "公示稿待审核" in line and "重新生成公示稿" not in line
    with services.db.session() as session:
        rows = session.scalars(
            select(Publication).where(Publication.event_id == event_id).order_by(Publication.id)
        )
        assert [(r.id == first, r.status) for r in rows] == [(True, "withdrawn"), (False, "draft")]
    again = post_form(client, page, f"{page}/publications", redraft)
    assert again.status_code == 409 and "已有公示记录" in again.text


def test_statement_review_through_the_case_page(client: TestClient) -> None:
    """复核陈述申辩 is offered like the other acts: blocked with the guard's message and article
    while no statement waits for review, then recorded with the officer's opinion (refused
    beside its field while empty) and named in the timeline."""
    from tests.api.apphelpers import login

    case_id = api_case(client, approve=True)
    page = f"/workbench/cases/{case_id}"
    notify = client.post(
        f"/cases/{case_id}/lifecycle/notify", json={}, headers=login(client, "officer")
    )
    notify.raise_for_status()
    sign_in(client, "officer")
    blocked = action_line(client.get(page).text, "复核陈述申辩")
    assert "不可办理" in blocked and "没有待复核的陈述申辩" in blocked
    assert "行政处罚法第四十五条第一款" in blocked
    statement = {"statement": "当事人称已补缴税款，请求从轻处罚。"}
    assert act_on_page(client, case_id, "record_statement", statement).status_code == 303
    open_line = action_line(client.get(page).text, "复核陈述申辩")
    assert 'id="review_statement-opinion"' in open_line and "复核意见" in open_line
    assert 'id="review_statement-adopted"' in open_line
    empty = act_on_page(client, case_id, "review_statement", {"opinion": " "})
    assert empty.status_code == 422
    assert "复核意见" in error_beside(empty.text, "review_statement-opinion")
    review = {"opinion": "补缴属实，予以采纳，依法从轻。", "adopted": "on"}
    assert act_on_page(client, case_id, "review_statement", review).status_code == 303
    assert "没有待复核的陈述申辩" in action_line(client.get(page).text, "复核陈述申辩")
    timeline = client.get(f"{page}/timeline", headers={"HX-Request": "true"}).text
    assert "<td>复核陈述申辩</td>" in timeline
    events = client.get(f"/cases/{case_id}/timeline", headers=login(client, "officer")).json()
    reviewed = [e for e in events["events"] if e["action"] == "statement_reviewed"]
    assert reviewed and reviewed[0]["details"]["adopted"] is True
    assert reviewed[0]["name"] == "复核陈述申辩"  # the API names it from the one registry


def test_failed_htmx_requests_carry_what_the_page_script_shows(client: TestClient) -> None:
    """A refused htmx request (a segment's 更正 link) answers its status with the error fragment
    (the API's message and code, not a whole page); a lapsed sign-in answers 401 with the error
    envelope and HX-Redirect back to the page (to the sign-in page with next= the page when no
    refresh cookie could renew it), never the sign-in page as a fragment."""
    from urllib.parse import quote

    case_id = new_case(client)
    recording_id, _ = add_transcript(client, case_id)
    page = f"/workbench/cases/{case_id}"
    edit = f"/workbench/recordings/{recording_id}/segments/0/edit"
    hx = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}?tab=1"}

    def fragment(response: Any, status: int, code: str) -> str:
        assert response.status_code == status, response.text
        assert "<html" not in response.text and 'role="alert"' in response.text
        assert f"<code>{code}</code>" in response.text
        return html.unescape(re.sub(r"<[^>]+>", "", response.text))

    missing = client.get(f"/workbench/recordings/{recording_id}/segments/99/edit", headers=hx)
    assert f"录音 {recording_id} 没有第 99 段。" in fragment(missing, 404, "segment_not_found")
    forged = client.post(f"/workbench/recordings/{recording_id}/segments/0", headers=hx)
    assert "CSRF" in fragment(forged, 403, "csrf_rejected")
    sign_in(client, "reviewer")
    assert "无权" in fragment(client.get(edit, headers=hx), 403, "role_not_allowed")

    refresh = client.cookies.get("ta_refresh")
    client.cookies.clear()
    client.cookies.set("ta_refresh", str(refresh))  # the access token lapsed, the refresh may not
    lapsed = client.get(edit, headers=hx, follow_redirects=False)
    assert lapsed.status_code == 401 and lapsed.headers["HX-Redirect"] == f"{page}?tab=1"
    error = lapsed.json()["error"]
    assert error["code"] == "sign_in_required" and "重新登录" in error["message"]
    client.cookies.clear()  # signed out: to the sign-in page, back to the case after it
    gone = client.get(edit, headers=hx, follow_redirects=False)
    assert gone.status_code == 401
    assert gone.headers["HX-Redirect"] == f"/workbench/login?next={quote(f'{page}?tab=1')}"
    elsewhere = {"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"}
    foreign = client.get(edit, headers=elsewhere, follow_redirects=False)
    assert foreign.headers["HX-Redirect"] == f"/workbench/login?next={quote(edit)}"
    plain = client.get(edit, follow_redirects=False)  # a page request: the usual redirect
    assert plain.status_code == 303 and plain.headers["location"].startswith("/workbench/login")
