"""Penalty documents through the API read as issued decisions do (../shared/corpora/decisions).

Each test is one finding of a legal review: the multiple stated, facts addressed to the party
and characterised, citations down to the 项 with official version markers, the on-the-spot
decision's breached rule and reconsideration-first remedy, the statement right until the
decision, remedy clauses the fact guard keeps, and the sample benchmark marked as a sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.discretion.benchmark import DEFAULT_BENCHMARK
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings

OFFICERS = [
    {"name": "王检查", "certificate": "15010001"},
    {"name": "李检查", "certificate": "15010002"},
]
SIMPLE = {"place": "示例区办税服务厅", "when": "2026-05-10T10:30:00", "officers": OFFICERS}
EVASION = {
    "violation": "tax_evasion",
    "facts": "该公司2024年1月至12月通过账外收入方式少申报增值税收入，少缴增值税50,000元。",
    "tax_unpaid": "50000.00",
    "days_overdue": 0,
}


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings: Settings = make_settings(tmp_path_factory.mktemp("issued") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
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


def _draft(
    client: TestClient, officer: dict[str, str], case_id: int, doc_type: str, inputs: object = None
) -> dict[str, object]:
    body: dict[str, object] = {"doc_type": doc_type}
    if inputs is not None:
        body["inputs"] = inputs
    response = client.post(f"/cases/{case_id}/documents", json=body, headers=officer)
    assert response.status_code == 201, (doc_type, response.text)
    document: dict[str, object] = response.json()
    return document


def test_a_multiple_is_stated_as_decisions_state_it(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = _case(client, officer, **EVASION)
    text = str(_draft(client, officer, case_id, "penalty_decision")["text"])
    assert "决定对你单位不缴或者少缴的税款50,000.00元，处百分之五十的罚款，计25,000.00元" in text
    assert "处以罚款25,000.00元" not in text
    notice = str(_draft(client, officer, case_id, "penalty_notice")["text"])
    assert "拟对你单位不缴或者少缴的税款50,000.00元，处百分之五十的罚款" in notice


def test_facts_are_addressed_to_the_party_and_characterised(client: TestClient) -> None:
    officer = login(client, "officer")
    evasion = _case(client, officer, **EVASION)
    text = str(_draft(client, officer, evasion, "penalty_decision")["text"])
    assert (
        "经查，你单位2024年1月至12月通过账外收入方式少申报增值税收入，少缴增值税50,000元。" in text
    )
    assert "该公司" not in text
    assert (
        "根据《中华人民共和国税收征收管理法》第六十三条第一款的规定，你单位的上述行为已构成偷税。"
        in text
    )
    late = _case(client, officer)
    text = str(_draft(client, officer, late, "penalty_decision")["text"])
    assert "经查，你单位2025年3月增值税纳税申报逾期45日" in text
    assert (
        "你单位的上述行为违反了《中华人民共和国税收征收管理法》第二十五条第一款的规定，"
        "构成未按照规定的期限办理纳税申报和报送纳税资料的违法行为。"
    ) in text
    # the record holds no inspected tax period: none is printed (never invented)
    assert "期间的涉税情况" not in text


def test_citations_reach_the_item_and_name_the_version_officially(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = _case(
        client,
        officer,
        violation="registration_failure",
        facts="该公司2025年3月1日领取营业执照后，未按规定期限办理税务登记，逾期45日。",
    )
    text = str(_draft(client, officer, case_id, "penalty_decision")["text"])
    assert "《中华人民共和国税收征收管理法》第六十条第一款第（一）项" in text
    invoice = _case(
        client,
        officer,
        violation="invoice_misuse",
        violation_date="2024-03-01",
        facts="该公司2024年3月1日销售货物时应当开具而未开具发票。",
        days_overdue=0,
    )
    step = client.post(f"/cases/{invoice}/discretion", headers=officer)
    assert "（国务院令第764号修订）" in step.text and "版）" not in step.text
    text = str(_draft(client, officer, invoice, "penalty_decision")["text"])
    assert "《中华人民共和国发票管理办法》（国务院令第764号修订）第三十三条" in text
    assert "版）" not in text


def test_on_the_spot_decision_breaks_no_procedure_rule_and_goes_to_reconsideration_first(
    client: TestClient,
) -> None:
    officer = login(client, "officer")
    case_id = _case(client, officer)
    text = str(_draft(client, officer, case_id, "simple_penalty_decision", SIMPLE)["text"])
    assert "违反了《中华人民共和国行政处罚法》第五十一条" not in text
    assert "违反了《中华人民共和国税收征收管理法》第二十五条第一款的规定" in text
    assert "《中华人民共和国行政复议法》第二十三条第一款第（一）项" in text
    assert "对行政复议决定不服的，可以自收到行政复议决定书之日起十五日内向人民法院提起诉讼" in text
    assert "或者自收到本决定书之日起六个月内依法向人民法院起诉" not in text
    assert "该公司" not in text


def test_the_notice_lets_the_party_state_its_case_until_the_decision(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = _case(client, officer, **EVASION)
    text = str(_draft(client, officer, case_id, "penalty_notice")["text"])
    assert "在我局作出税务行政处罚决定之前，你单位可以到我局进行陈述、申辩" in text
    assert "视为放弃陈述、申辩的权利" not in text
    # the five days stay for the hearing request (行政处罚法第六十四条第（一）项)
    assert "请自收到本告知书之日起五日内向我局书面提出听证申请" in text


def test_the_fact_guard_refuses_removing_or_changing_a_remedy_clause(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = _case(client, officer)
    document = _draft(client, officer, case_id, "penalty_decision")
    text = str(document["text"])
    lawsuit = "或者自收到本决定书之日起六个月内依法向人民法院起诉"
    assert lawsuit in text
    for changed in (
        text.replace(lawsuit, ""),
        text.replace(
            "依法向国家税务总局示例市税务局申请行政复议", "依法向示例市人民政府申请行政复议"
        ),
    ):
        response = client.post(
            f"/documents/{document['id']}/revisions",
            json={"text": changed, "note": "删改救济途径"},
            headers=officer,
        )
        error = assert_error(response, 409, "fact_check_failed")
        kinds = {f["kind"] for f in error["details"]["findings"]}  # type: ignore[index]
        assert "remedy" in kinds
    # other edits still go through
    fine = client.post(
        f"/documents/{document['id']}/revisions",
        json={"text": text.replace("主要有以下证据证明", "有以下证据证明"), "note": "措辞"},
        headers=officer,
    )
    assert fine.status_code == 201, fine.text


def test_the_bundled_sample_is_marked_and_never_cited_as_published(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = _case(client, officer)
    for doc_type in ("penalty_notice", "penalty_decision"):
        text = str(_draft(client, officer, case_id, doc_type)["text"])
        assert text.startswith("【样本】"), doc_type
        assert "符合《TaxAssist税务行政处罚裁量基准（样本）》" not in text


def test_a_configured_benchmark_is_cited_by_its_official_name_and_number(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    table = yaml.safe_load(DEFAULT_BENCHMARK.read_text(encoding="utf-8"))
    table.update(
        sample=False,
        name="示例省税务行政处罚裁量基准",
        publication="国家税务总局示例省税务局公告2025年第1号",
    )
    table.pop("note", None)
    path = tmp_path / "benchmark.yaml"
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    settings: Settings = make_settings(tmp_path / "data", benchmark_file=path)
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        officer = login(client, "officer")
        case_id = _case(client, officer)
        text = str(_draft(client, officer, case_id, "penalty_decision")["text"])
    assert "【样本】" not in text
    assert (
        "符合《示例省税务行政处罚裁量基准》（国家税务总局示例省税务局公告2025年第1号）第1项"
    ) in text
