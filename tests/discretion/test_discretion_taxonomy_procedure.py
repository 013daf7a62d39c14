"""Taxonomy and procedure data: complete, typed, checked against statute text when present."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from assistant.config import BUNDLED_CORPUS
from assistant.discretion import load_benchmark, load_procedure
from assistant.errors import InvalidInput
from assistant.taxonomy import get_violation, load_taxonomy

STATUTES = BUNDLED_CORPUS / "statutes"  # the official texts that ship (corpora/SOURCES.md)
CODES = {
    "registration_failure", "bookkeeping_failure", "bank_account_unreported", "late_filing",
    "withholding_records_failure", "tax_evasion", "false_tax_basis", "non_filing_evasion",
    "arrears_evasion", "export_refund_fraud", "tax_resistance", "withholding_failure",
    "obstructing_inspection", "invoice_misuse", "invoice_false_issuing",
    "overdue_tax_unpaid", "accounting_system_unfiled", "tax_control_device_failure",
    "registration_certificate_misuse", "illegal_invoice_printing", "refusing_tax_treatment",
    "bank_noncooperation", "registration_verification_failure", "tax_receipt_forgery",
    "bank_account_number_failure", "facilitating_evasion", "withholding_refused_unpaid",
    "transport_inspection_refused", "tax_agent_violation", "invoice_blank_transport",
    "invoice_lost", "invoice_illegal_proxy", "invoice_forgery", "invoice_transfer",
    "invoice_illegal_acceptance", "invoice_causing_tax_loss",
}  # fmt: skip
_CN = "零一二三四五六七八九"


def _cn(n: int) -> str:
    if n < 10:
        return _CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def test_taxonomy_is_complete() -> None:
    taxonomy = load_taxonomy()
    assert set(taxonomy) == CODES
    for entry in taxonomy.values():
        assert entry.legal_basis and entry.keywords and entry.source and entry.name_zh
    assert get_violation("bank_account_unreported").item == 4
    with pytest.raises(InvalidInput) as info:
        get_violation("nope")
    assert info.value.code == "unknown_violation"
    assert sorted(CODES) == info.value.details["valid_codes"]


def test_invoice_versions_by_date() -> None:
    issuing = get_violation("invoice_false_issuing")
    assert issuing.legal_basis_on(date(2023, 7, 19)) == ("发票管理办法:37:1@2019-03-02",)
    assert issuing.legal_basis_on(date(2023, 7, 20)) == ("发票管理办法:35:1@2023-07-20",)
    assert get_violation("invoice_misuse").legal_basis_on(date(2020, 1, 1)) == (
        "发票管理办法:35@2019-03-02",
    )
    with pytest.raises(InvalidInput):
        issuing.legal_basis_on(date(2018, 1, 1))


def test_procedure_rules() -> None:
    rules = load_procedure()
    assert rules.hearing_required("individual", Decimal("2000"))
    assert not rules.hearing_required("individual", Decimal("1999.99"))
    assert rules.hearing_required("organisation", Decimal("10000"))
    assert not rules.hearing_required("organisation", Decimal("9999.99"))
    assert rules.simple_procedure_allowed("individual", Decimal("200"))
    assert not rules.simple_procedure_allowed("individual", Decimal("200.01"))
    assert rules.simple_procedure_allowed("organisation", Decimal("3000"))
    assert (rules.hearing_request_days, rules.fine_payment_days) == (5, 15)
    assert rules.statement_defence_days == 5 and "惯例" in rules.sources["statement_defence_days"]
    assert (
        rules.additional_fine_daily_rate == Decimal("0.03") and rules.additional_fine_capped_at_fine
    )
    assert rules.late_payment_surcharge_daily_rate == Decimal("0.0005")
    assert (rules.reconsideration_days, rules.lawsuit_months, rules.limitation_years) == (60, 6, 5)
    assert rules.tax_dispute_pay_or_guarantee_first
    assert "国税发〔1996〕190号" in rules.sources["hearing"]
    assert rules.confidence["hearing"] == "high"
    assert all(src for src in rules.sources.values())


def _article_text(law_file: str, article: int) -> str:
    text = (STATUTES / law_file).read_text(encoding="utf-8")
    match = re.search(
        rf"^第{_cn(article)}条 .*?(?=^第[一二三四五六七八九十百]+条 |\Z)", text, re.M | re.S
    )
    assert match, f"{law_file} 第{article}条 not found"
    return match.group(0)


def test_statutory_ranges_match_statute_text() -> None:
    """Each sample item's statutory range is worded in the article it cites."""
    law_files = {
        "税收征收管理法": "税收征收管理法(2015-04-24).md",
        "发票管理办法@2019-03-02": "发票管理办法(2019-03-02).md",
        "发票管理办法@2023-07-20": "发票管理办法(2023-07-20).md",
        "税收征收管理法实施细则": "税收征收管理法实施细则(2016-02-06).md",
    }
    wording = {
        ("fixed", "0"): ("收缴其发票或者停止向其发售发票",),
        ("fixed", "30000"): ("1万元以上3万元以下", "依照前款规定处罚"),
        ("multiple", "1"): ("1倍以下",),
        ("fixed", "10000"): (
            "一万元以下",
            "1万元以下",
            "二千元以上一万元以下",
            "2000元以上1万元以下",
        ),
        ("fixed", "5000"): ("二千元以上五千元以下",),
        ("fixed", "50000"): (
            "五万元以下",
            "5万元以下",
            "一万元以上五万元以下",
            "1万元以上5万元以下",
            "2万元以上5万元以下",
            "一万元以上五万元以下",
        ),
        ("fixed", "500000"): ("5万元以上50万元以下", "十万元以上五十万元以下"),
        ("multiple", "5"): ("百分之五十以上五倍以下", "一倍以上五倍以下", "第六十八条"),
        ("multiple", "3"): ("百分之五十以上三倍以下", "50%以上3倍以下"),
    }
    for item in load_benchmark().items:
        ident = item.basis[0]
        law, _, version = ident.partition("@")
        name, article = law.split(":")[0], int(law.split(":")[1])
        text = _article_text(law_files[name + (f"@{version}" if version else "")], article)
        assert item.statutory.max is not None
        key = (item.statutory.kind, f"{item.statutory.max.normalize():f}")
        assert any(w in text for w in wording[key]), (item.id, key, text[:80])
    issuing_2019 = _article_text(law_files["发票管理办法@2019-03-02"], 37)
    issuing_2023 = _article_text(law_files["发票管理办法@2023-07-20"], 35)
    for text in (issuing_2019, issuing_2023):
        assert "虚开金额在1万元以下的，可以并处5万元以下的罚款" in text
    simple = _article_text("行政处罚法(2021-01-22).md", 51)
    assert "对公民处以二百元以下、对法人或者其他组织处以三千元以下罚款" in simple
    assert "五年内未被发现的" in _article_text(law_files["税收征收管理法"], 86)
    assert "万分之五" in _article_text(law_files["税收征收管理法"], 32)
