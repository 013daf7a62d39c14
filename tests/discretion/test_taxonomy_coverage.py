"""Every penalty provision of 征管法 (60–74), 实施细则 (90–98) and 发票管理办法
(2019: 35–41, 2023: 33–39) has a violation code.

The shipped official texts are parsed, so a 款 that imposes a penalty and that no code decides
fails here. `taxassist taxonomy list --json` prints the same registry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.config import BUNDLED_CORPUS
from assistant.discretion import load_benchmark
from assistant.legal import parse_integer
from assistant.taxonomy import PENALTY_KINDS, load_taxonomy
from tests.core.test_cli import run_cli

STATUTES = BUNDLED_CORPUS / "statutes"
LAWS = [
    ("税收征收管理法", "税收征收管理法(2015-04-24).md", "", range(60, 75)),
    ("税收征收管理法实施细则", "税收征收管理法实施细则(2016-02-06).md", "", range(90, 99)),
    ("发票管理办法", "发票管理办法(2019-03-02).md", "@2019-03-02", range(35, 42)),
    ("发票管理办法", "发票管理办法(2023-07-20).md", "@2023-07-20", range(33, 40)),
]
# A 款 imposes a penalty when it fines, confiscates, withholds invoices or stops export
# refunds, or applies another article's penalty (依照…规定处罚/执行). Not penalties:
# 征管法第六十条第二款 (提请吊销营业执照 by the market regulator), 第七十四条 (which office
# decides), 实施细则第九十七条 (行政处分 of tax officers), 发票管理办法 向社会公告 and the
# 从其规定 reference of 2019 第三十八条第二款 / 2023 第三十六条第二款.
PENALTY = re.compile(
    r"处[^。；，]*?罚款|没收|收缴其发票|停止为其办理出口退税"
    r"|依照[^。]*?第[^。]*?条的规定(?:处罚|执行)|依照前款规定处罚"
)
ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")
ARTICLE = re.compile(r"^第([一二三四五六七八九十百零]+)条\s*(.*)")


def _paragraphs(law_file: str) -> dict[int, list[list[str]]]:
    """Article number → its 款, each a list of paragraphs (the 款's text, then its 项)."""
    articles: dict[int, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for raw in (STATUTES / law_file).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("<!--"):
            continue
        match = ARTICLE.match(line)
        if match:
            current = articles.setdefault(parse_integer(match.group(1)), [])
            current.append([match.group(2)])
        elif current is not None and ITEM.match(line):
            current[-1].append(line)
        elif current is not None:
            current.append([line])
    return articles


def _penalty_provisions() -> list[str]:
    """`law:article[:款[:项]]@version` of every penalty 款, and of each 项 of such a 款."""
    out = []
    for law, law_file, version, numbers in LAWS:
        articles = _paragraphs(law_file)
        for number in numbers:
            assert number in articles, f"{law_file} 第{number}条 missing"
            paras = articles[number]
            for index, para in enumerate(paras, start=1):
                if not PENALTY.search("".join(para)):
                    continue
                kuan = f"{law}:{number}:{index}" if len(paras) > 1 else f"{law}:{number}"
                out.append(kuan + version)
                out.extend(
                    f"{law}:{number}:{index}:{item}{version}" for item in range(1, len(para))
                )
    return out


def _covered() -> set[str]:
    """Provisions the codes decide. A code without `item` decides its whole 款 (all 项 carry
    the same penalty, e.g. 发票管理办法第三十三条's nine); `law:article` stands for its only 款."""
    covered: set[str] = set()
    for entry in load_taxonomy().values():
        for ident in entry.all_provisions():
            base, at, version = ident.partition("@")
            parts = base.split(":")
            if len(parts) == 2:
                parts.append("1")
            if entry.item is not None and len(parts) == 3:
                parts.append(str(entry.item))
            covered.add(":".join(parts[:2]) + at + version)
            covered.add(":".join(parts[:3]) + at + version)
            covered.add(":".join(parts) + at + version)
            if len(parts) == 3:
                covered.update(f"{':'.join(parts)}:{n}{at}{version}" for n in range(1, 20))
    return covered


def test_statute_texts_are_the_official_ones() -> None:
    for _, law_file, _, _ in LAWS:
        text = (STATUTES / law_file).read_text(encoding="utf-8")
        assert "演示" not in text.split("<!-- INFO END -->")[0], law_file


def test_every_penalty_provision_has_a_code() -> None:
    provisions = _penalty_provisions()
    assert len(provisions) >= 40  # sanity: the parser found the articles
    missing = [p for p in provisions if p not in _covered()]
    assert not missing, missing


def test_lost_invoice_is_decided_under_its_own_article() -> None:
    """丢失发票: 2019 第三十六条第二款, 2023 第三十四条第二款 — not the 第三十三条 list."""
    lost = load_taxonomy()["invoice_lost"]
    assert set(lost.all_provisions()) == {
        "发票管理办法:36:2@2019-03-02",
        "发票管理办法:34:2@2023-07-20",
    }
    text = "".join(_paragraphs("发票管理办法(2023-07-20).md")[34][1])
    assert text.startswith("丢失发票或者擅自损毁发票的，依照前款规定处罚")


def test_every_code_has_penalty_kinds_and_a_benchmark_item() -> None:
    bench = load_benchmark()
    for code, entry in load_taxonomy().items():
        assert entry.penalties, code
        assert all(p.kind in PENALTY_KINDS and p.text for p in entry.penalties), code
        assert bench.items_for(code), code
        assert entry.source


def test_taxonomy_list_cli(tmp_path: Path) -> None:
    result = run_cli("taxonomy", "list", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["code"]: row for row in json.loads(result.stdout)}
    assert len(rows) == len(load_taxonomy()) >= 36
    lost = rows["invoice_lost"]
    assert lost["name_zh"] == "丢失发票或者擅自损毁发票"
    assert "发票管理办法:34:2@2023-07-20" in lost["articles"]
    assert {p["kind"] for p in lost["penalties"]} == {"fine", "confiscate_illegal_gains"}
    assert rows["bookkeeping_failure"]["articles"] == ["税收征收管理法:60:1:2"]
    forgery = {v["version"]: v for v in rows["invoice_forgery"]["versions"]}
    kinds_2019 = {p["kind"] for p in forgery["2019-03-02"]["penalties"]}
    kinds_2023 = {p["kind"] for p in forgery["2023-07-20"]["penalties"]}
    assert kinds_2019 - kinds_2023 == {"revoke_printing_permit"}  # deleted by 国务院令第764号
    export = {p["kind"] for p in rows["export_refund_fraud"]["penalties"]}
    assert "stop_export_refund" in export


@pytest.mark.parametrize("code", sorted(load_taxonomy()))
def test_engine_suggests_for_every_code(code: str) -> None:
    from assistant.discretion import DiscretionInput, suggest

    data = {
        "violation": code,
        "taxpayer_type": "organisation",
        "violation_date": "2024-03-01",
        "decision_date": "2024-09-01",
        "tax_unpaid": "20000",
        "invoice_amount": "5000",
    }
    result = suggest(DiscretionInput.from_dict(data))
    assert result.decision == "penalty"
    assert result.statutory_min <= result.suggested_amount <= result.statutory_max
    assert result.penalties
