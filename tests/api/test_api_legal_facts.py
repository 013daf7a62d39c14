"""The facts the penalty articles turn on, entered as an officer would (POST /cases and the CLI),
and what they decide: 征管法第八十六条 counted to discovery, 刑法第二百零五条 on the tax of the
invoices, 征管法第六十三条第二款 for a withholding agent, and 没收违法所得 with its procedure
(行政处罚法第二十八条、第五十一条、第六十三条)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings
from tests.core.test_cli import run_cli


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("legal-facts") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with running_app(settings) as client:
        yield client


@pytest.fixture(scope="module")
def officer(client: TestClient) -> dict[str, str]:
    return login(client, "officer")


def _case(**changes: Any) -> dict[str, Any]:
    body = demo_case_payload()
    body.update(
        {
            "days_overdue": 0,
            "tax_unpaid": "0",
            "corrected_in_time": False,
            "facts": "经检查，当事人存在下列违法事实。",
        }
    )
    body.update(changes)
    return body


def _suggest(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    created = client.post("/cases", json=_case(**changes), headers=headers)
    assert created.status_code == 201, created.text
    step = client.post(f"/cases/{created.json()['id']}/discretion", headers=headers)
    assert step.status_code == 201, step.text
    payload: dict[str, Any] = step.json()["payload"]
    return payload


def test_case_accepts_and_returns_the_legal_facts(
    client: TestClient, officer: dict[str, str]
) -> None:
    body = _case(
        violation="tax_evasion",
        violation_date="2021-10-01",
        discovery_date="2024-03-01",
        tax_unpaid="50000",
        tax_payable="400000",
        invoice_tax_amount="0",
        party_role="withholding_agent",
    )
    created = client.post("/cases", json=body, headers=officer)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["discovery_date"] == "2024-03-01"
    assert out["tax_payable"] == "400000.00"
    assert out["invoice_tax_amount"] == "0.00"
    assert out["party_role"] == "withholding_agent"
    again = client.get(f"/cases/{out['id']}", headers=officer).json()
    assert again["discovery_date"] == "2024-03-01" and again["party_role"] == "withholding_agent"


def test_unknown_field_is_named(client: TestClient, officer: dict[str, str]) -> None:
    response = client.post("/cases", json=_case(discovered_on="2024-03-01"), headers=officer)
    body = assert_error(response, 422, "invalid_request")
    assert "discovered_on" in body["message"]
    bad_role = client.post("/cases", json=_case(party_role="agent"), headers=officer)
    assert "party_role" in assert_error(bad_role, 422, "invalid_request")["message"]


def test_discovery_before_the_five_years_keeps_the_penalty(
    client: TestClient, officer: dict[str, str]
) -> None:
    """Act 2021-10-01, found 2024-03-01: within five years (征管法第八十六条), whatever the date
    of decision."""
    result = _suggest(
        client,
        officer,
        violation="tax_evasion",
        violation_date="2021-10-01",
        discovery_date="2024-03-01",
        tax_unpaid="50000",
        tax_payable="500000",
    )
    assert result["decision"] == "penalty", result["explanation"]
    assert "税收征收管理法:86" not in result["legal_ground"]
    assert "于2024-03-01被发现" in result["explanation"]


def test_discovery_date_after_today_is_refused(client: TestClient, officer: dict[str, str]) -> None:
    response = client.post(
        "/cases", json=_case(violation_date="2021-10-01", discovery_date="2999-01-01"),
        headers=officer,
    )  # fmt: skip
    assert_error(response, 422, "dates_out_of_order")


def test_false_special_invoices_with_260000_tax_are_referred(
    client: TestClient, officer: dict[str, str]
) -> None:
    """刑法第二百零五条; 2024 两高解释第十一条第一款: 虚开税款数额十万元以上."""
    result = _suggest(
        client,
        officer,
        violation="invoice_false_issuing",
        violation_date="2024-05-10",
        invoice_amount="2000000",
        invoice_tax_amount="260000",
        factors=["vat_special_invoice"],
    )
    assert result["criminal_referral"] is True, result["explanation"]
    assert "刑法:205:1" in result["citations"]
    assert "260,000.00元" in result["explanation"]


def test_withholding_agent_evasion_is_article_63_paragraph_2(
    client: TestClient, officer: dict[str, str]
) -> None:
    result = _suggest(
        client,
        officer,
        violation="tax_evasion",
        violation_date="2024-05-10",
        tax_unpaid="30000",
        party_role="withholding_agent",
    )
    assert result["legal_ground"] == ["税收征收管理法:63:2"]
    assert "第六十三条第二款" in result["explanation"]
    assert "第六十三条第一款" not in result["explanation"]


@pytest.mark.parametrize("gains", ["24000", "80000"])
def test_illegal_gains_are_confiscated_with_hearing_and_no_simple_procedure(
    client: TestClient, officer: dict[str, str], gains: str
) -> None:
    """发票管理办法（2023年版）第三十三条：有违法所得的予以没收. 行政处罚法第五十一条 allows on
    the spot only a warning or a small fine; 第六十三条第一款第（二）项: 没收较大数额违法所得 →
    hearing."""
    result = _suggest(
        client,
        officer,
        violation="invoice_misuse",
        violation_date="2024-05-10",
        corrected_in_time=True,
        illegal_gains=gains,
    )
    kinds = {p["kind"]: p for p in result["penalties"]}
    assert kinds["confiscate_illegal_gains"]["amount"] == f"{gains}.00"
    assert kinds["confiscate_illegal_gains"]["basis"] == ["发票管理办法:33@2023-07-20"]
    assert result["confiscated_amount"] == f"{gains}.00"
    assert Decimal(result["suggested_amount"]) <= 3000  # a fine the simple procedure allows …
    assert result["simple_procedure"] is False  # … but not with confiscation
    assert result["hearing_required"] is True
    assert "没收违法所得" in result["explanation"]


def test_cli_suggest_takes_the_same_facts(tmp_path: Path) -> None:
    case = {
        "violation": "tax_evasion",
        "taxpayer_type": "organisation",
        "violation_date": "2021-10-01",
        "discovery_date": "2024-03-01",
        "decision_date": "2026-11-01",
        "tax_unpaid": "50000",
        "tax_payable": "500000",
        "party_role": "withholding_agent",
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    result = run_cli("discretion", "suggest", "--case", str(path), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["decision"] == "penalty" and out["legal_ground"] == ["税收征收管理法:63:2"]
    path.write_text(json.dumps({**case, "discovered": "2024-03-01"}), encoding="utf-8")
    bad = run_cli("discretion", "suggest", "--case", str(path), "--json", data_dir=tmp_path)
    assert bad.returncode != 0
    error = json.loads(bad.stdout or bad.stderr)["error"]
    assert error["code"] == "unknown_field" and "discovered" in error["message"]


def test_confiscation_reaches_the_documents_and_bars_the_simple_procedure(
    client: TestClient, officer: dict[str, str]
) -> None:
    created = client.post(
        "/cases",
        json=_case(
            violation="invoice_misuse",
            violation_date="2024-05-10",
            corrected_in_time=True,
            illegal_gains="24000",
            facts="你单位于2024年5月10日以其他凭证代替发票使用，取得违法所得24,000元。",
        ),
        headers=officer,
    )
    case_id = created.json()["id"]
    assert client.post(f"/cases/{case_id}/discretion", headers=officer).status_code == 201
    notice = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_notice"}, headers=officer
    )
    assert notice.status_code == 201, notice.text
    text = notice.json()["text"]
    assert "没收违法所得24,000.00元（大写：贰万肆仟元整）" in text
    assert "听证" in text
    simple = client.post(
        f"/cases/{case_id}/documents",
        json={
            "doc_type": "simple_penalty_decision",
            "inputs": {
                "place": "示例区办税服务厅",
                "when": "2026-05-10T10:30:00",
                "officers": [
                    {"name": "王检查", "certificate": "15010001"},
                    {"name": "李检查", "certificate": "15010002"},
                ],
            },
        },
        headers=officer,
    )
    assert_error(simple, 422, "simple_procedure_not_allowed")


def test_statute_lookup_answers_the_paragraph_an_id_names(
    client: TestClient, officer: dict[str, str]
) -> None:
    """GET /statutes/发票管理办法:34:2 is 丢失发票 (第二款), not the whole 第三十四条."""
    whole = client.get("/statutes/发票管理办法:34", params={"date": "2024-03-01"}, headers=officer)
    assert whole.status_code == 200, whole.text
    assert "丢失发票" in whole.json()["text"] and "空白发票" in whole.json()["text"]
    second = client.get(
        "/statutes/发票管理办法:34:2", params={"date": "2024-03-01"}, headers=officer
    )
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["text"] == "丢失发票或者擅自损毁发票的，依照前款规定处罚。"
    assert (body["paragraph"], body["item"]) == (2, None)
    missing = client.get(
        "/statutes/发票管理办法:34:3", params={"date": "2024-03-01"}, headers=officer
    )
    assert_error(missing, 404, "statute_not_found")
    bad = client.get("/statutes/发票管理办法:第34条", headers=officer)
    assert_error(bad, 422, "invalid_statute_id")


def test_a_lost_invoice_is_decided_under_its_own_article(
    client: TestClient, officer: dict[str, str]
) -> None:
    """丢失发票 in 2024: 发票管理办法 (2023) 第三十四条第二款, up to 10,000 (30,000 if serious), not
    the 第三十三条 list the taxonomy had no code for."""
    payload = _suggest(
        client, officer, violation="invoice_lost", violation_date="2024-03-01", occurrences=1
    )
    assert payload["legal_ground"] == ["发票管理办法:34:2@2023-07-20"]
    assert Decimal(payload["statutory_range"]["max"]) == Decimal("30000.00")
    assert Decimal(payload["suggested_amount"]) <= Decimal("10000")


@pytest.mark.parametrize(
    ("decision", "tax"),
    [("温税三稽罚〔2026〕65号", "473688.28"), ("铁税一稽罚〔2026〕17号", "5710765.66")],
)
def test_evasion_tiers_are_calibrated_on_real_outcomes(
    client: TestClient, officer: dict[str, str], decision: str, tax: str
) -> None:
    """Facts like these real decisions (0.6x and 0.5x imposed) got 1.5x and a 2–5x tier under the
    old sample; the calibrated 一般 tier is 0.5–1.5x with 1x suggested (docs/calibration.md)."""
    payload = _suggest(client, officer, violation="tax_evasion", tax_unpaid=tax, occurrences=1)
    assert payload["tier"] == "一般", decision
    assert Decimal(payload["suggested_amount"]) == Decimal(tax), decision  # 1x, not 1.5x or 3.5x
