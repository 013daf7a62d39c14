"""Driving the workbench's forms like a browser: the CSRF token read from the page, cookies."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import DEMO_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> Any:
    """A fresh browser (no cookies) signs in as `username` through the sign-in form."""
    client.cookies.clear()
    page = client.get("/workbench/login")
    assert page.status_code == 200, page.text
    return client.post(
        "/workbench/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def post_form(client: TestClient, page_path: str, action: str, data: dict[str, Any]) -> Any:
    """Open `page_path`, then post `data` with that page's CSRF token (no redirect followed)."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(
        action, data={**data, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )


def web_case_form() -> dict[str, str]:
    """The demo late-filing case as the new-case form sends it."""
    return {
        "taxpayer.name": "示例商贸有限公司",
        "taxpayer.kind": "organisation",
        "taxpayer.id_number": "91150100MA0N7Y2K37",
        "taxpayer.address": "内蒙古自治区呼和浩特市示例区示例路1号",
        "taxpayer.legal_representative": "张示例",
        "party_role": "taxpayer",
        "violation": "late_filing",
        "violation_date": "2025-04-15",
        "facts": "该公司2025年3月增值税纳税申报逾期45日，经责令限期改正后于2025年5月30日补办申报，"
        "补缴税款12,000元。",
        "evidence": "纳税申报记录\n责令限期改正通知书及送达回证",
        "tax_unpaid": "12000.00",
        "days_overdue": "45",
        "occurrences": "1",
        "harm": "minor",
        "corrected_in_time": "on",
    }
