"""The workbench's pages through the real app (TestClient): sign-in, each role's queue, the
new-case form's refusals with the API's messages (values kept), refusals per role, CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.apphelpers import prepare_data_dir, running_app
from tests.conftest import make_settings
from tests.web.webhelpers import csrf_of, post_form, sign_in, web_case_form


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("web") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


def new_case(client: TestClient, **changes: str) -> object:
    return post_form(
        client, "/workbench/cases/new", "/workbench/cases/new", {**web_case_form(), **changes}
    )


def created_case(client: TestClient) -> int:
    response = new_case(client)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/workbench/cases/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def test_pages_ask_for_sign_in_and_sign_in_sets_strict_http_only_cookies(
    client: TestClient,
) -> None:
    client.cookies.clear()
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/workbench/login?next=/"
    wrong = sign_in(client, "officer", "not-the-password")
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    assert 'value="officer"' in wrong.text  # the username typed is kept
    ok = sign_in(client, "officer")
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookies = ok.headers.get_list("set-cookie")
    for name in ("ta_access", "ta_refresh", "ta_csrf"):
        cookie = next(c for c in cookies if c.startswith(name + "="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie, cookie
    page = client.get("/")
    assert page.status_code == 200
    assert "我承办的案件" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_an_open_redirect_after_sign_in_is_refused(client: TestClient) -> None:
    client.cookies.clear()
    page = client.get("/workbench/login?next=//evil.example/")
    response = client.post(
        "/workbench/login",
        data={
            "username": "officer",
            "password": "taxassist-test-pw",
            "next": "//evil.example/",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/workbench")]


def test_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    sign_in(client, "officer")
    before = client.get("/workbench/cases").text.count('href="/workbench/cases/')
    missing = client.post("/workbench/cases/new", data=web_case_form(), follow_redirects=False)
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = client.post(
        "/workbench/cases/new",
        data={**web_case_form(), "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403
    logout = client.post("/workbench/logout", data={}, follow_redirects=False)
    assert logout.status_code == 403  # signing out is a form like any other
    after = client.get("/workbench/cases").text.count('href="/workbench/cases/')
    assert after == before


def test_new_case_form_shows_the_api_message_beside_the_field_and_keeps_values(
    client: TestClient,
) -> None:
    sign_in(client, "officer")
    bad_code = new_case(client, **{"taxpayer.id_number": "91150100MA0N7Y2K38"})
    assert bad_code.status_code == 422
    html = bad_code.text
    error = re.search(r'id="f-taxpayer-id_number-error">([^<]+)<', html)
    assert error and "统一社会信用代码" in error.group(1) and "无效" in error.group(1), html
    assert 'aria-describedby="f-taxpayer-id_number-error"' in html
    for kept in ("示例商贸有限公司", "91150100MA0N7Y2K38", "12000.00", "补缴税款12,000元"):
        assert kept in html, kept
    assert re.search(r'value="late_filing"\s+selected', html)

    bad_amount = new_case(client, tax_unpaid="12,000.5x")
    assert bad_amount.status_code == 422
    amount_error = re.search(r'id="f-tax_unpaid-error">([^<]+)<', bad_amount.text)
    assert amount_error and "tax_unpaid" in amount_error.group(1), bad_amount.text
    assert "12,000.5x" in bad_amount.text

    future = new_case(client, violation_date="2999-01-01")
    assert future.status_code == 422
    date_error = re.search(r'id="f-violation_date-error">([^<]+)<', future.text)
    assert date_error and date_error.group(1) == "违法行为发生日期不能晚于今天。"


def test_each_role_sees_its_own_queue(client: TestClient) -> None:
    sign_in(client, "officer")
    case_id = created_case(client)
    page = f"/workbench/cases/{case_id}"
    for step in ("discretion",):
        assert post_form(client, page, f"{page}/steps/{step}", {}).status_code == 303
    for doc_type in ("penalty_notice", "penalty_decision"):
        drafted = post_form(client, page, f"{page}/drafts", {"doc_type": doc_type, "inputs": ""})
        assert drafted.status_code == 303, drafted.text
    number = re.search(r"案件 (TA-\d{4}-\d{6})", client.get(page).text)
    assert number
    assert number.group(1) in client.get("/").text

    sign_in(client, "officer2")
    assert number.group(1) not in client.get("/").text  # not officer2's case

    sign_in(client, "reviewer")
    queue = client.get("/").text
    assert "待法制审核" in queue and number.group(1) in queue
    checklist = client.get(page).text
    manual = re.findall(r'name="(point-[a-z_]+)"', checklist)
    assert manual, "the reviewer gets the checklist with the points to confirm"
    reviewed = post_form(
        client, page, f"{page}/review", {"result": "同意", **{m: "on" for m in manual}}
    )
    assert reviewed.status_code == 303, reviewed.text
    assert number.group(1) not in client.get("/").text

    sign_in(client, "approver")
    queue = client.get("/").text
    assert "待负责人批准" in queue and number.group(1) in queue
    approved = post_form(client, page, f"{page}/approve", {"opinion": "同意。"})
    assert approved.status_code == 303, approved.text
    assert "负责人已批准" in client.get(page).text


def test_each_role_is_refused_what_it_may_not_do_with_the_reason(client: TestClient) -> None:
    sign_in(client, "reviewer")
    refused = new_case(client)
    assert refused.status_code == 403
    assert "当前用户角色无权执行此操作" in refused.text

    sign_in(client, "officer")
    case_id = created_case(client)
    page = f"/workbench/cases/{case_id}"
    html = client.get(page).text
    # what the officer may not do now is listed with the guard's reason
    assert re.search(r"负责人批准</strong>\s*<span class=\"why\">不可办理：", html), html
    assert "不可办理：案件处于“调查取证”阶段，不能告知。" in html
    assert "行政处罚法" in html or "依据" in html
    forced = post_form(client, page, f"{page}/approve", {"opinion": "自己批准"})
    assert forced.status_code == 403
    assert "当前用户角色无权执行此操作" in forced.text and "role_not_allowed" in forced.text

    sign_in(client, "approver")
    step = post_form(client, page, f"{page}/steps/discretion", {})
    assert step.status_code == 403 and "role_not_allowed" in step.text
    upload = client.get(page).text
    assert 'name="file"' not in upload  # no upload form for who may not upload


def test_case_list_filters(client: TestClient) -> None:
    sign_in(client, "officer")
    created_case(client)
    listed = client.get("/workbench/cases", params={"q": "示例商贸", "violation": "late_filing"})
    assert listed.status_code == 200 and "TA-2025-" in listed.text
    none = client.get("/workbench/cases", params={"q": "不存在的纳税人"})
    assert "没有案件" in none.text
    by_stage = client.get("/workbench/cases", params={"status": "closed"})
    assert "没有案件" in by_stage.text
    by_officer = client.get("/workbench/cases", params={"officer": "officer2"})
    assert "TA-2025-" not in by_officer.text
    bad_date = client.get("/workbench/cases", params={"date_from": "2025-13-01"})
    assert bad_date.status_code == 422 and "日期格式" in bad_date.text


def test_an_expired_access_cookie_is_renewed_with_the_refresh_cookie(client: TestClient) -> None:
    sign_in(client, "officer")
    refresh = client.cookies.get("ta_refresh")
    assert refresh
    client.cookies.clear()  # a browser whose access cookie no longer works
    client.cookies.set("ta_refresh", refresh)
    client.cookies.set("ta_access", "expired-or-forged")
    # a subresource (the audio player, an htmx poll) never spends the refresh token
    audio = client.get("/", headers={"sec-fetch-dest": "audio"}, follow_redirects=False)
    assert audio.status_code == 303
    # htmx is told to load the page again (a page navigation renews), not sent the sign-in form
    fragment = client.get("/", headers={"hx-request": "true"}, follow_redirects=False)
    assert fragment.status_code == 401 and fragment.headers["hx-redirect"] == "/"
    page = client.get("/", headers={"sec-fetch-dest": "document"}, follow_redirects=False)
    assert page.status_code == 200 and "我承办的案件" in page.text
    renewed = page.headers.get_list("set-cookie")
    assert any(c.startswith("ta_access=") for c in renewed)
    assert any(c.startswith("ta_refresh=") for c in renewed)
    client.cookies.clear()
    client.cookies.set("ta_refresh", refresh)  # used once already: the sign-in is revoked
    client.cookies.set("ta_access", "forged")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_probing_the_actions_on_a_page_view_writes_nothing(client: TestClient) -> None:
    sign_in(client, "officer")
    case_id = created_case(client)
    page = f"/workbench/cases/{case_id}"
    assert post_form(client, page, f"{page}/steps/discretion", {}).status_code == 303
    for doc_type in ("penalty_notice", "penalty_decision"):
        draft = {"doc_type": doc_type, "inputs": ""}
        assert post_form(client, page, f"{page}/drafts", draft).status_code == 303
    sign_in(client, "reviewer")
    first = client.get(page).text  # the review is probed (allowed) on this view
    assert "提交审核意见" in first
    again = client.get(page).text
    assert "调查取证" in again
    # the signed timeline is loaded after the page: the probes added no event
    timeline = client.get(f"{page}/timeline", headers={"HX-Request": "true"}).text
    events = re.findall(r"<td>(\d+)</td>\s*<td>\d{4}-", timeline)
    assert events == ["1", "2", "3", "4"] and "记录完整，签名验证通过" in timeline


def test_transcript_marks_unrecognised_spans_and_low_confidence_words() -> None:
    from api.web.pages import low_words, segment_parts

    assert segment_parts("我们【无法识别】的发票【无法识别】") == [
        ("我们", False),
        ("【无法识别】", True),
        ("的发票", False),
        ("【无法识别】", True),
    ]
    words = [{"word": "发票", "probability": 0.9}, {"word": " 虚开", "probability": 0.3}]
    assert low_words(words) == ["虚开"]
    assert low_words(None) == []
