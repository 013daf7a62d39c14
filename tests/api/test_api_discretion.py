"""/discretion/suggest and /discretion/check over HTTP: the contract, real similar cases from the
demo index, and bad input as a clear 4xx envelope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.dates import today_in_china
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import make_settings

CASE: dict[str, Any] = {
    "violation": "late_filing",
    "taxpayer_type": "organisation",
    "violation_date": "2024-03-01",
    "decision_date": "2024-06-01",
    "days_overdue": 40,
    "corrected_in_time": True,
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("discretion") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with running_app(settings) as client:
        yield client


@pytest.fixture(scope="module")
def officer(client: TestClient) -> dict[str, str]:
    return login(client, "officer")


def test_suggest_contract(client: TestClient, officer: dict[str, str]) -> None:
    response = client.post("/discretion/suggest", json=CASE, headers=officer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tier"] == "一般" and body["suggested_amount"] == "1250.00"
    assert body["legal_ground"] == ["税收征收管理法:62"]


def test_check_against_demo_cases(client: TestClient, officer: dict[str, str]) -> None:
    """The demo index's two 未按期申报 cases (500元, 3000元) are the peers."""
    ok = client.post(
        "/discretion/check", json={"case": CASE, "proposed_amount": "1500"}, headers=officer
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["tier_position"] == "within" and body["outlier"] is False
    assert {p["case_id"] for p in body["similar_cases"]} == {"demo:001", "demo:002"}
    assert body["peer_stats"] == {
        "count": 2,
        "min": "500.00",
        "median": "1750.00",
        "max": "3000.00",
    }
    assert body["percentile"] == 50.0
    high = client.post(
        "/discretion/check",
        json={"case": CASE, "proposed_amount": 9000, "facts": "纳税申报逾期40日，责令改正后补报"},
        headers=officer,
    ).json()
    assert high["outlier"] is True and high["percentile"] == 100.0
    assert {f["code"] for f in high["flags"]} == {"above_benchmark_tier", "high_vs_similar_cases"}


def test_check_compares_multiples_for_tax_evasion(
    client: TestClient, officer: dict[str, str]
) -> None:
    case = {**CASE, "violation": "tax_evasion", "tax_unpaid": "200000", "occurrences": 3}
    body = client.post(
        "/discretion/check", json={"case": case, "proposed_amount": "600000"}, headers=officer
    ).json()
    assert body["compared_on"] == "multiple" and body["proposed_value"] == "3"
    assert {p["case_id"] for p in body["similar_cases"]} == {"demo:003", "demo:004"}
    assert "high_vs_similar_cases" in {f["code"] for f in body["flags"]}


def _future() -> str:
    return (today_in_china() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"violation": "speeding"}, 422, "unknown_violation"),
        ({"tax_unpaid": "-1"}, 422, "negative_amount"),
        ({"days_overdue": -5}, 422, "negative_amount"),
        ({"invoice_amount": -0.01}, 422, "negative_amount"),
        ({"decision_date": "FUTURE"}, 422, "date_in_future"),
        ({"violation_date": "FUTURE", "decision_date": "FUTURE"}, 422, "date_in_future"),
        ({"decision_date": "2024-02-29"}, 422, "dates_out_of_order"),
        ({"violation_date": "01/03/2024"}, 422, "invalid_field"),
        ({"factors": ["friend_of_the_director"]}, 422, "unknown_factor"),
        ({"violation": "tax_evasion"}, 422, "missing_base"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient, officer: dict[str, str], change: dict[str, Any], status: int, code: str
) -> None:
    case = {k: (_future() if v == "FUTURE" else v) for k, v in {**CASE, **change}.items()}
    error = assert_error(
        client.post("/discretion/suggest", json=case, headers=officer), status, code
    )
    if code in ("unknown_violation",):
        assert "late_filing" in error["details"]["valid_codes"]  # type: ignore[index]
    if code != "missing_base":
        checked = client.post(
            "/discretion/check", json={"case": case, "proposed_amount": "100"}, headers=officer
        )
        assert_error(checked, status, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"case": CASE, "proposed_amount": "-100"}, "negative_amount"),
        ({"case": CASE, "proposed_amount": "一百块"}, "invalid_field"),
        ({"case": CASE}, "missing_field"),
        ({"proposed_amount": "100"}, "missing_field"),
        ({"case": CASE, "proposed_amount": "100", "k": 1000}, "invalid_k"),
    ],
)
def test_check_bad_body(
    client: TestClient, officer: dict[str, str], body: dict[str, Any], code: str
) -> None:
    assert_error(client.post("/discretion/check", json=body, headers=officer), 422, code)


def test_discretion_needs_login(client: TestClient) -> None:
    assert_error(client.post("/discretion/check", json={}), 401, "missing_token")


REGIONAL = """\
name: 某市税务行政处罚裁量基准（测试）
sample: false
version: "2024-1"
items:
  - id: late_filing_regional
    number: 7
    violation: late_filing
    basis: ["税收征收管理法:62"]
    statutory: {kind: fixed, min: "0", max: "10000"}
    effective_from: "2020-01-01"
    source: 税收征收管理法第六十二条；测试用地区基准
    tiers:
      - name: 二档
        standard: 逾期31日以上改正的，处800元罚款
        when: {corrected_in_time: true, days_overdue: {gt: 30}}
        penalty: {kind: fixed, min: "800", max: "800"}
"""


def test_a_bureau_loads_its_own_benchmark(tmp_path: Path, shared_index_dir: Path) -> None:
    """TAXASSIST_BENCHMARK_FILE replaces the sample for /discretion/suggest and /check."""
    bench = tmp_path / "regional.yaml"
    bench.write_text(REGIONAL, encoding="utf-8")
    settings = make_settings(tmp_path / "data", benchmark_file=bench)
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        headers = login(client, "officer")
        body = client.post("/discretion/suggest", json=CASE, headers=headers).json()
        assert body["benchmark_item"] == "late_filing_regional" and body["tier"] == "二档"
        assert body["suggested_amount"] == "800.00"
        assert "《某市税务行政处罚裁量基准（测试）》第7项“二档”阶次" in body["explanation"]
        check = client.post(
            "/discretion/check", json={"case": CASE, "proposed_amount": "800"}, headers=headers
        ).json()
        assert (
            check["tier_position"] == "within" and check["benchmark_item"] == "late_filing_regional"
        )
