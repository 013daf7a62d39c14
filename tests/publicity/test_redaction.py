"""Masking personal data: each identifier kind, what must stay shown, and the labelled set."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.publicity.benchmark import evaluate
from assistant.publicity.labelled import bank_card, mobile, resident_id
from assistant.publicity.redaction import Redactor, leaks, luhn_ok
from assistant.publicity.service import SourceFields, mask, remaining_identifiers
from tests.conftest import DEMO_USCC, SHARED_CORPORA, requires_shared


def test_identifiers_are_masked_and_organisations_shown() -> None:
    rng = random.Random(7)
    pid, card, phone = resident_id(rng), bank_card(rng), mobile(rng)
    text = (
        f"示例商贸有限公司（统一社会信用代码：{DEMO_USCC}）法定代表人王建华，"
        f"其员工李秀英（身份证号{pid}，手机{phone}）通过个人银行卡{card}收取货款，"
        "家住内蒙古自治区包头市昆都仑区阿尔丁大街35号5栋2单元1102室，"
        "联系电话0472-5123456。"
    )
    result = Redactor(keep=("示例商贸有限公司", DEMO_USCC, "王建华")).redact(text)
    assert leaks(result.text, [pid, card, phone, "0472-5123456", "阿尔丁大街35号", "李秀英"]) == []
    assert "示例商贸有限公司" in result.text and DEMO_USCC in result.text
    assert "王建华" in result.text  # the organisation's legal representative is shown
    assert pid[:6] + "＊" * 8 + pid[14:] in result.text  # the birth date is hidden
    assert "包头市昆都仑区＊＊＊" in result.text  # kept to the county level
    assert "李某" in result.text
    kinds = {f.kind for f in result.findings}
    assert kinds == {"id_number", "phone", "bank_account", "address", "person_name"}


def test_near_misses_are_left_alone() -> None:
    rng = random.Random(3)
    pid = resident_id(rng)
    wrong = pid[:17] + ("0" if pid[17] != "0" else "1")  # a wrong check character
    digits = card = bank_card(rng).replace(" ", "")
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)  # fails Luhn
    assert luhn_ok(digits) and not luhn_ok(broken)
    text = (
        f"号码{wrong}，编号{broken}，增值税专用发票代码1500224130、号码01234567，"
        "税款1234567.89元，王某某、张某等人。发票号码07647407-07647456，"
        "纳税人识别号91450103071974857T。"
    )
    assert luhn_ok("0764740707647456")  # a range that happens to pass Luhn
    result = Redactor().redact(text)
    assert result.findings == ()
    assert result.text == text


def test_names_in_the_record_are_masked_wherever_they_appear() -> None:
    result = Redactor(["赵六"]).redact("赵六于2024年3月收取现金，赵六未申报。")
    assert result.text == "赵某于2024年3月收取现金，赵某未申报。"


@requires_shared
def test_labelled_set_recall_on_identifiers() -> None:
    """Real bulletin and decision text with planted personal data (the benchmark's set)."""
    report = evaluate(SHARED_CORPORA, samples=300, seed=20261204)
    for split in ("dev", "held_out"):
        assert report["recall"][split]["identifiers"] >= 0.99, report["recall"]
        assert report["recall"][split]["address"] >= 0.95, report["recall"]
    assert report["recall"]["dev"]["person_name"] >= 0.95
    assert report["precision"]["id_number"] >= 0.95
    assert report["precision"]["bank_account"] >= 0.95


_FILLER = "的了是在税务局公司个人账户收取货款申报纳税，。；：（）、元年月日0123456789 "


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    parts=st.lists(st.text(alphabet=_FILLER, max_size=25), min_size=4, max_size=4),
    separators=st.lists(st.sampled_from("，。：（）、的为 号是"), min_size=6, max_size=6),
)
def test_no_planted_identifier_survives_the_masking(
    seed: int, parts: list[str], separators: list[str]
) -> None:
    """Whatever the text around them, identifiers set off by a non-alphanumeric character are
    masked in every published field, and the publish check then finds none."""
    rng = random.Random(seed)
    values = [resident_id(rng), mobile(rng), bank_card(rng)]
    text = parts[0]
    for i, value in enumerate(values):
        text += separators[2 * i] + value + separators[2 * i + 1] + parts[i + 1]
    source = SourceFields({"facts": text, "result": text}, (), ())
    fields, _ = mask(source)
    assert leaks(fields["facts"] + fields["result"], values) == []
    assert remaining_identifiers(fields) == []


def test_a_measure_on_a_natural_person_is_masked_as_a_penalty_is() -> None:
    """A 强制 measure's record names the individual party as 王某 (as a penalty's does), and takes
    the 文书, measure, method and article from the signed event: never its amount or note."""
    from datetime import date

    from assistant.config import Settings
    from assistant.db.models import Case, CaseEvent, Taxpayer
    from assistant.publicity.service import measure_fields

    case = Case(taxpayer=Taxpayer(name="王建国", uscc="150102198001011234", kind="individual"))
    event = CaseEvent(
        details={
            "on": date(2026, 3, 2).isoformat(),
            "measure_name": "税收保全措施",
            "method_name": "书面通知开户银行或者其他金融机构冻结存款",
            "source": "《中华人民共和国税收征收管理法》第三十八条",
            "document": "税收保全措施决定书",
            "document_number": "示税保〔2026〕3号",
            "amount": "5000.00",
            "note": "王建国手机13812345678",
        }
    )
    settings = Settings(_env_file=None, authority_name="国家税务总局示例市税务局")  # type: ignore[call-arg]
    fields, findings = mask(measure_fields(case, event, settings))
    assert fields["party"] == "王某" and {f["kind"] for f in findings} >= {"person_name"}
    assert fields["document_number"] == "税收保全措施决定书（示税保〔2026〕3号）"
    assert fields["decided_on"] == "2026-03-02" and fields["basis"].endswith("第三十八条")
    assert "5000" not in str(fields) and "13812345678" not in str(fields)
    assert remaining_identifiers(fields) == []
