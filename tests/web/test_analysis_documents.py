"""The case page's analysis panels and the document pages through the real app (TestClient):
panels loaded apart from the page, entities marked where they stand, pushed articles with
passage, version and reasons, the consistency chart; drafting any registered type, the
preview, downloads, edits refused with the API's message beside the field and the fact
guard's findings marked at the text, versions side by side; role refusals and CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.apphelpers import prepare_data_dir, running_app
from tests.conftest import make_settings
from tests.web.webhelpers import csrf_of, post_form, sign_in, web_case_form


@dataclass(frozen=True)
class Analysed:
    client: TestClient
    case_id: int
    notice_id: int

    @property
    def page(self) -> str:
        return f"/workbench/cases/{self.case_id}"


@pytest.fixture(scope="module")
def analysed(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[Analysed]:
    """One case with the three analysis steps run and the notice drafted, by its officer."""
    settings = make_settings(tmp_path_factory.mktemp("web-analysis") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        sign_in(client, "officer")
        created = post_form(client, "/workbench/cases/new", "/workbench/cases/new", web_case_form())
        assert created.status_code == 303, created.text
        page = created.headers["location"]
        case_id = int(page.rsplit("/", 1)[1])
        for step in ("entities", "retrieval", "discretion"):
            assert post_form(client, page, f"{page}/steps/{step}", {}).status_code == 303
        drafted = post_form(
            client, page, f"{page}/drafts", {"doc_type": "penalty_notice", "inputs": ""}
        )
        assert drafted.status_code == 303, drafted.text
        notice_id = int(drafted.headers["location"].rsplit("/", 1)[1])
        yield Analysed(client, case_id, notice_id)


def test_the_case_page_loads_its_panels_separately(analysed: Analysed) -> None:
    client = analysed.client
    sign_in(client, "officer")
    html = client.get(analysed.page).text
    for panel in ("entities", "statutes", "similar", "discretion"):
        assert f'hx-get="{analysed.page}/analysis/{panel}" hx-trigger="load"' in html
    assert "推送理由" not in html and "<svg" not in html  # not computed with the page
    # one way to draft: every registered type from the case page's one form (the registry's
    # list), no fixed per-type buttons beside it
    assert html.count("/drafts/new") == 1 and f'action="{analysed.page}/documents"' not in html
    from assistant.documents.registry import DRAFTABLE

    options = re.findall(r'<option value="([a-z_]+)">', html.split('id="draft-type"')[1])
    assert tuple(options[: len(DRAFTABLE)]) == DRAFTABLE


def test_a_lazy_panel_that_fails_answers_the_message_the_page_shows(analysed: Analysed) -> None:
    """Every panel loaded after the page is marked `data-lazy` (the page script shows a failed
    load's message there, with a button to load it again); a refused load answers its status
    with the API's message and code in the error fragment the script reads."""
    client = analysed.client
    sign_in(client, "officer")
    html = client.get(analysed.page).text
    lazy = re.findall(r'<div id="([a-z-]+)" data-lazy hx-get="([^"]+)" hx-trigger="load"', html)
    assert [name for name, _ in lazy] == [
        "panel-entities",
        "panel-statutes",
        "panel-similar",
        "panel-discretion",
        "timeline",
    ]
    assert html.count('hx-trigger="load"') == len(lazy)  # no lazy panel left unmarked
    htmx = {"HX-Request": "true"}
    for _, url in lazy:
        assert client.get(url, headers=htmx).status_code == 200, url
        missing = client.get(url.replace(analysed.page, "/workbench/cases/999999"), headers=htmx)
        assert missing.status_code == 404, url
        alert = re.search(r'<div class="error" role="alert">\s*<p>([^<]+)</p>', missing.text)
        assert alert and alert.group(1) == "案件 999999 不存在。", missing.text
        assert "<code>case_not_found</code>" in missing.text
        assert "<html" not in missing.text  # the fragment alone, not a page


def test_entities_are_marked_where_they_stand_in_the_facts(analysed: Analysed) -> None:
    client = analysed.client
    sign_in(client, "reviewer")  # any reader of the case sees the panels
    html = client.get(f"{analysed.page}/analysis/entities").text
    marks = re.findall(r'<mark class="ent ent-([a-z_]+)[^"]*" title="([^"]*)">([^<]+)<', html)
    kinds = {kind for kind, _, _ in marks}
    assert {"amount", "date"} <= kinds, marks
    facts = web_case_form()["facts"]
    for _, _, text in marks:
        assert unescape(text) in facts
    amount = next(text for kind, _, text in marks if kind == "amount")
    assert "12,000" in amount


def test_marked_transcript_lines_keep_each_segment_s_entities() -> None:
    from api.web.analysis import mark_text, split_lines
    from assistant.nlp import extract_entities

    lines = ["问：你公司统一社会信用代码？", "答：91150100MA0N7Y2K37，少缴税款12,000元。"]
    joined = "\n".join(lines)
    found = extract_entities(joined, use_model=False).to_dict()["items"]
    pieces, stale = mark_text(joined, found)
    assert stale == 0
    rows = split_lines(pieces, lines)
    assert "".join(p.text for p in rows[0]) == lines[0]
    assert "".join(p.text for p in rows[1]) == lines[1]
    assert [(p.kind, p.text) for p in rows[1] if p.kind][:2] == [
        ("uscc", "91150100MA0N7Y2K37"),
        ("amount", "12,000元"),
    ]
    # a corrected text no longer holds an entity: it is left out and counted, never misplaced
    pieces, stale = mark_text(joined.replace("12,000", "13,000"), found)
    assert stale == 1 and not any(p.kind == "amount" for p in pieces)


def test_pushed_articles_show_passage_version_and_why(analysed: Analysed) -> None:
    client = analysed.client
    sign_in(client, "officer")
    html = client.get(f"{analysed.page}/analysis/statutes").text
    assert "税收征收管理法:62" in html, html
    assert re.search(r"适用版本：\d{4}-\d{2}-\d{2} 起施行的文本", html)
    assert '<mark class="term">' in html
    assert "推送理由" in html and re.search(r"（贡献 \d\.\d{3}）", html)
    similar = client.get(f"{analysed.page}/analysis/similar").text
    rows = re.findall(r"<tr>\s*<td>", similar)
    assert rows and "处理结果" in similar


def test_discretion_panel_places_the_proposal_among_similar_cases(analysed: Analysed) -> None:
    client = analysed.client
    sign_in(client, "approver")
    html = client.get(f"{analysed.page}/analysis/discretion").text
    assert "一般" in html and "建议取阶次中值" in html  # tier and formula
    assert '<svg role="img"' in html and 'class="proposed"' in html
    assert 'value="1250.00"' in html  # the suggestion is the default proposal
    dots = len(re.findall(r'<circle class="peer"', html))
    table = html.split("可比的相似案例处罚")[1] if "可比的相似案例处罚" in html else ""
    assert dots == len(re.findall(r"<tr><td>", table))


def test_a_bad_proposed_amount_gets_the_api_message_beside_the_field(analysed: Analysed) -> None:
    client = analysed.client
    sign_in(client, "officer")
    page = f"{analysed.page}/analysis/consistency"
    for typed, message in (("12,0x0", "不是有效金额"), ("-5", "不能为负数")):
        response = client.get(page, params={"amount": typed})
        assert response.status_code == 422
        error = re.search(r'id="proposed-amount-error">([^<]+)<', response.text)
        assert error and "proposed_amount" in error.group(1) and message in error.group(1)
        assert f'value="{typed}"' in response.text
    fine = client.get(page, params={"amount": "5000"})
    assert fine.status_code == 200 and "拟处 5,000" in fine.text


def test_consistency_chart_orders_peers_and_the_proposal_on_one_axis() -> None:
    from api.web.analysis import consistency_chart
    from assistant.discretion import DiscretionInput
    from assistant.discretion.consistency import compare

    @dataclass(frozen=True)
    class Similar:
        id: str
        title: str
        outcome: str
        violation_type: str | None = "late_filing"

    peers = [Similar(f"c{n}", f"案例{n}", f"对该公司处罚款{n}元。") for n in (500, 800, 2000)]
    case = DiscretionInput(
        violation="late_filing",
        taxpayer_type="organisation",
        violation_date=date(2025, 4, 15),
        decision_date=date(2025, 8, 1),
        days_overdue=45,
        tax_unpaid=Decimal("12000"),
        corrected_in_time=True,
    )
    chart = consistency_chart(compare(case, Decimal("1250"), peers))
    xs = [d.x for d in chart.dots]
    assert xs == sorted(xs) and chart.left <= xs[0] < chart.proposed < xs[-1] <= chart.right
    assert chart.band is not None and chart.band[0] <= chart.proposed <= chart.band[1]


def test_any_registered_type_is_drafted_with_refusals_beside_the_field(
    analysed: Analysed,
) -> None:
    client = analysed.client
    sign_in(client, "officer")
    form = client.get(f"{analysed.page}/drafts/new", params={"doc_type": "correction_notice"})
    assert form.status_code == 200
    assert "<code>correction</code>（必填）" in form.text and "<code>deadline</code>" in form.text
    drafts = f"{analysed.page}/drafts"
    new = f"{analysed.page}/drafts/new"
    missing = post_form(client, new, drafts, {"doc_type": "correction_notice", "inputs": "{}"})
    assert missing.status_code == 422
    error = re.search(r'id="f-inputs-error">([^<]+)<', missing.text)
    assert error and "起草该文书还缺少以下信息" in error.group(1) and "deadline" in error.group(1)
    broken = '{"correction": "办理2025年3月增值税纳税申报", "deadline": '
    bad_json = post_form(client, new, drafts, {"doc_type": "correction_notice", "inputs": broken})
    assert bad_json.status_code == 422 and "不是有效的 JSON" in bad_json.text
    assert unescape(broken) in unescape(bad_json.text)  # what was typed is kept
    unknown = post_form(client, new, drafts, {"doc_type": "no_such_type", "inputs": ""})
    assert unknown.status_code == 422 and 'id="f-doc_type-error"' in unknown.text
    past = '{"correction": "办理2025年3月增值税纳税申报", "deadline": "2025-06-30"}'
    too_early = post_form(client, new, drafts, {"doc_type": "correction_notice", "inputs": past})
    assert too_early.status_code == 422
    assert re.search(r'id="f-inputs-error">改正期限应晚于通知日期', too_early.text)
    deadline = (date.today() + timedelta(days=30)).isoformat()
    inputs = f'{{"correction": "办理2025年3月增值税纳税申报", "deadline": "{deadline}"}}'
    ok = post_form(client, new, drafts, {"doc_type": "correction_notice", "inputs": inputs})
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"]).text
    assert "税务事项通知书" in page

    sign_in(client, "approver")
    refused = post_form(client, new, drafts, {"doc_type": "penalty_decision", "inputs": ""})
    assert refused.status_code == 403 and "role_not_allowed" in refused.text
    assert re.search(r'<option value="penalty_decision" selected>', refused.text)


def test_document_page_preview_and_downloads(analysed: Analysed) -> None:
    client = analysed.client
    sign_in(client, "reviewer")
    doc = f"/workbench/documents/{analysed.notice_id}"
    page = client.get(doc)
    assert page.status_code == 200 and "税务行政处罚事项告知书" in page.text
    assert f'<iframe class="preview" src="{doc}/preview" title="' in page.text
    assert "只有承办人可以修改本文书" in page.text  # no edit form for the reviewer
    preview = client.get(f"{doc}/preview")
    assert preview.status_code == 200 and "<p class=" in preview.text
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    docx = client.get(f"{doc}/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    pdf = client.get(f"{doc}/pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert client.get("/workbench/documents/999999").status_code == 404


def test_an_edit_refused_by_the_fact_guard_marks_the_text_and_keeps_it(
    analysed: Analysed,
) -> None:
    client = analysed.client
    sign_in(client, "officer")
    doc = f"/workbench/documents/{analysed.notice_id}"
    found = re.search(r'id="f-text" name="text"[^>]*>([^<]*)</textarea>', client.get(doc).text)
    assert found
    original = unescape(found.group(1))
    assert "1,250.00" in original
    wrong = original.replace("1,250.00", "9,999.00", 1)
    refused = post_form(client, doc, f"{doc}/revisions", {"text": wrong, "note": "改金额"})
    assert refused.status_code == 409 and "fact_check_failed" in refused.text
    assert 'id="f-text-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert re.search(r'<mark class="finding" id="finding-at-1">9,999\.00<sup>', refused.text)
    assert unescape(wrong) in unescape(refused.text) and 'value="改金额"' in refused.text

    empty = post_form(client, doc, f"{doc}/revisions", {"text": "", "note": ""})
    assert empty.status_code == 422 and 'id="f-text-error"' in empty.text

    edited = original + "\n（以下无正文）"
    saved = post_form(client, doc, f"{doc}/revisions", {"text": edited, "note": "补充"})
    assert saved.status_code == 303, saved.text
    versions = client.get(doc).text
    assert "当前第 2 版" in versions and "<ins>（以下无正文）</ins>" in versions
    missing = client.get(doc, params={"from": "1", "to": "7"})
    assert missing.status_code == 404
    assert re.search(r'id="f-to-error">[^<]*没有第7版', missing.text)
    assert client.get(doc, params={"from": "x"}).status_code == 422

    sign_in(client, "officer2")  # not the handling officer
    other = post_form(client, doc, f"{doc}/revisions", {"text": edited + "。", "note": ""})
    assert other.status_code == 403 and unescape(edited) in unescape(other.text)
    sign_in(client, "officer")
    forged = client.post(f"{doc}/revisions", data={"text": edited + "。", "csrf_token": "x"})
    assert forged.status_code == 403
    assert csrf_of(client.get(doc).text)
