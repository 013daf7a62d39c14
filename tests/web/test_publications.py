"""The 公示 pages through the real app (TestClient): the list with its overdue alerts and state
filter, and one record's review — the masked text beside what the masking hid, corrections,
发布, 撤回 and 重新生成 — each through the API's function, refusals beside their control (4xx,
the record unchanged); a role that may not publish sees no button and is refused a forged
post; a post without the page's CSRF token is refused."""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.events import record_action
from assistant.config import Settings
from assistant.db.models import Case, Document, Publication, User
from assistant.publicity.labelled import resident_id
from tests.api.apphelpers import prepare_data_dir, running_app
from tests.conftest import make_settings
from tests.web.webhelpers import post_form, sign_in

PHONE = "13912345678"
NEW_PHONE = "13698765432"
FACTS = f"孙建军（联系电话{PHONE}）通过个人账户收取货款，少缴个人所得税12000.00元。"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("web-publications") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with running_app(settings) as client:
        yield client


def issued_decision(client: TestClient, number: int, issued_on: date) -> tuple[int, int]:
    """A natural person's case with a penalty decision issued on `issued_on` (its drafting and
    issue signed in the record, as the workflow records them) and no public record yet."""
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        officer, approver = (
            session.scalars(select(User).where(User.username == name)).one()
            for name in ("officer", "approver")
        )
        session.expunge_all()
    case = CaseWorkflow(services).create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput(
                name="孙建军", id_number=resident_id(random.Random(number)), kind="individual"
            ),
            violation="tax_evasion",
            facts=FACTS,
            violation_date=date(2025, 4, 15),
            tax_unpaid=Decimal("12000.00"),
        ),
    )
    text = (
        f"国家税务总局示例市税务局稽查局\n税务行政处罚决定书\n示税稽罚〔2026〕{number}号\n"
        f"孙建军：\n经我局检查，你存在违法事实及处罚决定如下：\n一、违法事实及证据\n{FACTS}\n"
        "上述违法事实，主要有以下证据证明：\n1.银行流水。\n二、处罚决定\n"
        "依据《中华人民共和国税收征收管理法》第六十三条第一款的规定，对你处以少缴税款"
        "百分之五十的罚款，计6,000.00元。\n"
    )
    with services.db.session() as session:
        row = session.get(Case, case.id)
        actor, issuer = session.get(User, officer.id), session.get(User, approver.id)
        assert row is not None and actor is not None and issuer is not None
        sha, _, _ = services.files.put_bytes(text.encode("utf-8"))
        document = Document(
            case_id=case.id,
            doc_type="penalty_decision",
            number=f"示税稽罚〔2026〕{number}号",
            sha256=sha,
            filename="decision.docx",
            text=text,
            created_by=actor.id,
        )
        session.add(document)
        session.flush()
        details = {"document_id": document.id, "doc_type": "penalty_decision", "sha256": sha}
        for who, action in ((actor, "document_drafted"), (issuer, "document_issued")):
            record_action(
                services, session, row, who, action, row.status, row.status, details,
                covers=[document],
            )  # fmt: skip
        document.issued_at = datetime(issued_on.year, issued_on.month, issued_on.day, 2, tzinfo=UTC)
        document.issued_by = issuer.id
        return case.id, document.id


def beside(page: str, field: str) -> str:
    match = re.search(rf'id="{re.escape(field)}-error">([^<]+)<', page)
    assert match, f"no message beside {field}"
    return html.unescape(match.group(1))


def status_of(client: TestClient, publication_id: int) -> str:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        row = session.get(Publication, publication_id)
        assert row is not None
        return str(row.status)


def draft_on_list(client: TestClient, document_id: int) -> int:
    listing = "/workbench/publications"
    posted = post_form(client, listing, listing, {"document_id": str(document_id)})
    assert posted.status_code == 303, posted.text
    return int(posted.headers["location"].rsplit("/", 1)[1])


def test_review_correct_publish_withdraw_and_draft_again(client: TestClient) -> None:
    """From the overdue alert to a new draft after a withdrawal as inaccurate."""
    case_id, document_id = issued_decision(client, 901, date(2026, 1, 5))
    sign_in(client, "officer")
    listing = client.get("/workbench/publications").text
    assert 'href="/workbench/publications"' in listing  # the nav
    assert "示税稽罚〔2026〕901号" in listing and "已逾期" in listing
    first = draft_on_list(client, document_id)
    again = post_form(
        client,
        "/workbench/publications",
        "/workbench/publications",
        {"document_id": str(document_id)},
    )
    assert again.status_code == 409
    assert "已有公示记录" in beside(again.text, "page")  # its button has become a link

    page = f"/workbench/publications/{first}"
    review = client.get(page).text
    public = review[review.index('id="h-public"') : review.index('id="h-masked"')]
    masked = review[review.index('id="h-masked"') : review.index('id="h-actions"')]
    assert PHONE not in public and "孙建军" not in public
    assert PHONE in masked and "电话号码" in masked and "自然人姓名" in masked
    assert 'id="publish"' in review and 'id="edit-facts"' in review

    empty = post_form(client, page, f"{page}/fields", {"facts": ""})
    assert empty.status_code == 422 and beside(empty.text, "edit-facts")
    corrected = f"该纳税人（电话{NEW_PHONE}）少缴个人所得税12000.00元。"
    assert post_form(client, page, f"{page}/fields", {"facts": corrected}).status_code == 303
    review = client.get(page).text
    public = review[review.index('id="h-public"') : review.index('id="h-masked"')]
    assert "少缴个人所得税12000.00元" in public and NEW_PHONE not in public
    assert NEW_PHONE in review[review.index('id="h-masked"') :]

    assert post_form(client, page, f"{page}/publish", {}).status_code == 303
    assert status_of(client, first) == "published"
    twice = client.post(f"{page}/publish", data={"csrf_token": csrf(client, page)})
    assert twice.status_code == 409 and "不是草稿" in beside(twice.text, "page")

    whim = {"reason": "whim", "note": "随意撤回"}
    refused = post_form(client, page, f"{page}/withdraw", whim)
    assert refused.status_code == 422 and beside(refused.text, "withdraw-reason")
    assert "随意撤回" in refused.text and status_of(client, first) == "published"
    future = {"reason": "revoked", "revoked_on": "2999-01-01"}
    late = post_form(client, page, f"{page}/withdraw", future)
    assert late.status_code == 422 and "不能晚于今天" in beside(late.text, "withdraw-revoked_on")
    wrong = {"reason": "inaccurate", "note": "事实表述有误"}
    assert post_form(client, page, f"{page}/withdraw", wrong).status_code == 303
    review = client.get(page).text
    assert "公开信息不准确" in review and 'id="redraft"' in review

    redrafted = post_form(client, page, f"{page}/redraft", {})
    assert redrafted.status_code == 303
    second = int(redrafted.headers["location"].rsplit("/", 1)[1])
    assert second != first and status_of(client, second) == "draft"
    assert "不可重新公示" in client.get(page).text  # the new draft is active
    assert post_form(client, page, f"{page}/redraft", {}).status_code == 409

    withdrawn = client.get("/workbench/publications?status=withdrawn").text
    withdrawn = withdrawn[withdrawn.index('id="h-records"') :]  # the records, not the alerts
    assert f'href="/workbench/publications/{first}"' in withdrawn
    assert f'href="/workbench/publications/{second}"' not in withdrawn
    bad = client.get("/workbench/publications?status=gone")
    assert bad.status_code == 422 and "invalid_status" in bad.text
    case_page = client.get(f"/workbench/cases/{case_id}").text
    assert f'href="/workbench/publications/{second}"' in case_page


def csrf(client: TestClient, page: str) -> str:
    from tests.web.webhelpers import csrf_of

    return csrf_of(client.get(page).text)


def test_a_role_that_may_not_publish_gets_no_button_and_a_403(client: TestClient) -> None:
    _, document_id = issued_decision(client, 902, date.today())
    sign_in(client, "officer")
    draft = draft_on_list(client, document_id)
    page = f"/workbench/publications/{draft}"
    no_token = client.post(f"{page}/publish", data={}, follow_redirects=False)
    assert no_token.status_code == 403 and "csrf_rejected" in no_token.text

    sign_in(client, "reviewer")
    review = client.get(page)
    assert review.status_code == 200 and PHONE in review.text  # reviews what was masked
    assert 'id="publish"' not in review.text and 'id="edit-facts"' not in review.text
    assert "生成公示稿</button>" not in client.get("/workbench/publications").text
    forged = client.post(f"{page}/publish", data={"csrf_token": csrf(client, page)})
    assert forged.status_code == 403 and beside(forged.text, "page")
    assert status_of(client, draft) == "draft"
    sign_in(client, "officer")


def test_missing_record_is_a_404_page(client: TestClient) -> None:
    sign_in(client, "officer")
    missing = client.get("/workbench/publications/999999")
    assert missing.status_code == 404 and "publication_not_found" in missing.text
    assert client.get("/workbench/publications/x").status_code == 422
