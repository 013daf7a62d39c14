"""Enforcement cases for similar-case retrieval, read from `<dir>/cases/*.jsonl`.

Three line formats are accepted: the project's demo format (id, title, text, violation_type,
outcome, date, statutes, region?), SAT case bulletins (title, url, publish_date, content_text) and
CAIL2018 judgments (fact, meta). Issued decisions are read from `<dir>/decisions/fulltext.jsonl`
and `records.jsonl`. Each case keeps its source, document type, region and the statute ids it
cites, so case search can filter on them and the statute recommender can count what similar
cases cite.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import InvalidInput
from assistant.knowledge.case_fields import (
    NO_AMOUNTS,
    CaseAmounts,
    amounts_in,
    announces_several_cases,
    bulletin_authority,
    head_authority,
    judicial_authority,
    money_field,
    split_bulletin,
    structured_amounts,
)
from assistant.knowledge.citations import Citation, parse_citations
from assistant.knowledge.regions import region_matches
from assistant.legal import StatuteId

VIOLATION_CODES: frozenset[str] = frozenset(
    {
        "registration_failure",
        "bookkeeping_failure",
        "bank_account_unreported",
        "late_filing",
        "withholding_records_failure",
        "tax_evasion",
        "false_tax_basis",
        "non_filing_evasion",
        "arrears_evasion",
        "export_refund_fraud",
        "tax_resistance",
        "withholding_failure",
        "overdue_tax_unpaid",  # 税收征收管理法第六十八条
        "obstructing_inspection",
        "invoice_misuse",
        "invoice_false_issuing",
    }
)

# Ordered: the first rule with a hit wins (虚开 first: the CAIL charge "虚开…用于骗取出口退税、抵扣
# 税款发票" names 出口退税, and 虚开 bulletins mention 少缴).
# 骗取留抵退税 is handled by the SAT as 偷税 (征管法第六十三条), hence tax_evasion.
_KEYWORD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("invoice_false_issuing", ("虚开增值税专用发票", "虚开发票", "虚开", "非法代开")),
    ("export_refund_fraud", ("骗取出口退税", "骗取国家出口退税", "假报出口")),
    ("tax_resistance", ("抗税", "暴力、威胁方法拒不缴纳")),
    ("arrears_evasion", ("逃避追缴欠税", "转移或者隐匿财产")),
    (
        "tax_evasion",
        ("偷税", "逃税", "逃避缴纳税款", "偷逃税", "少缴", "隐匿收入", "虚假申报", "骗取留抵退税"),
    ),
    ("obstructing_inspection", ("阻挠税务机关检查", "拒绝税务检查", "逃避、拒绝", "阻挠检查")),
    ("late_filing", ("逾期申报", "未按期申报", "未按照规定的期限办理纳税申报")),
    ("bookkeeping_failure", ("未按照规定设置", "未按规定设置账簿", "保管账簿")),
    ("withholding_failure", ("应扣未扣", "应收而不收")),
    ("invoice_misuse", ("非法出售", "非法购买", "伪造发票", "转借发票", "拆本使用")),
)

#: Case passages are embedded from their start; bulletins start with boilerplate, so the text
#: from the first "经查" (the facts) is preferred.
_FACTS_MARKERS = ("经查", "经审理查明", "查明")

#: Document types of the case corpus (the `doc_type` filter of case search).
DOC_TYPES: frozenset[str] = frozenset({"bulletin", "judgment", "decision", "taxassist"})

# "国家税务总局鄂尔多斯市税务局", "国家税务总局内蒙古自治区税务局" -> the place name.
_AUTHORITY_PLACE = re.compile(
    r"国家税务总局([\u4e00-\u9fff]{2,12}?(?:自治区|特别行政区|省|自治州|地区|盟|市|县|区|旗))税务局"
)


#: Ids of the cases closed in TaxAssist itself (database rows), beside the corpus cases.
DB_CASE_PREFIX = "taxassist:"


def regions_in(text: str, limit: int = 3) -> tuple[str, ...]:
    """Place names of the tax authorities a text names (the case's region), first `limit`."""
    found = dict.fromkeys(_place_name(m.group(1)) for m in _AUTHORITY_PLACE.finditer(text))
    return tuple(found)[:limit]


def _place_name(place: str) -> str:
    """The place as matched when it starts with a division (重庆市荣昌区, 苏州工业园区 via 苏州),
    else the division name it ends with ("坚决支持辽宁省" in bulletin prose -> 辽宁省)."""
    from assistant.knowledge.regions import divisions

    table = divisions()
    if any(table.lookup(place[:end]) for end in range(2, len(place) + 1)):
        return place  # 辽宁省, 重庆市荣昌区: starts with a division
    for start in range(1, len(place) - 1):
        if table.lookup(place[start:]) and place[start:] not in table.by_short:
            return place[start:]
    return place


def classify_violation(*texts: str) -> str | None:
    """Keyword classifier: the first text (e.g. the title) with any hit decides."""
    for text in texts:
        if not text:
            continue
        for code, words in _KEYWORD_RULES:
            if any(w in text for w in words):
                return code
    return None


@dataclass(frozen=True)
class CaseDoc:
    """One published or demo case, with provenance."""

    id: str
    title: str
    text: str
    violation_type: str | None
    outcome: str
    source: str
    date: date | None
    statutes: tuple[str, ...]
    doc_type: str = "taxassist"  # one of DOC_TYPES
    region: tuple[str, ...] = ()  # place names (province / city) of the authorities involved
    #: (article id, version note) for citations that name their version, e.g.
    #: ("发票管理办法:22", "财政部令第6号发布，国务院令第709号修订"): read in that version, not
    #: the one in force on `date` (concordance.py)
    statute_notes: tuple[tuple[str, str], ...] = ()
    authority: str = ""  # the issuing tax authority, court or procuratorate; "" when not stated
    amounts: CaseAmounts = NO_AMOUNTS  # tax evaded, 罚款, multiple, 罚金 (case_fields)

    def matches_region(self, region: str) -> bool:
        """True when the case lies in `region`: a province (浙江 / 浙江省) matches its cities'
        cases too, a city only its own (assistant.knowledge.regions)."""
        return region_matches(region, self.region)

    def passage(self, *, max_chars: int = 256) -> str:
        """The text to embed: title plus the facts, cut to `max_chars` (model cost is per token)."""
        body = self.text
        for marker in _FACTS_MARKERS:
            at = body.find(marker)
            if at > 0:
                body = body[at:]
                break
        return f"{self.title}\n{body}"[:max_chars]


def _dedupe(ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _notes(citations: Sequence[Citation]) -> tuple[tuple[str, str], ...]:
    """(article id, version note) of the citations with a note; the first note of an article."""
    found: dict[str, str] = {}
    for c in citations:
        if c.version_note:
            found.setdefault(StatuteId.parse(c.id).article_id, c.version_note)
    return tuple(found.items())


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _parse_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _outcome_from_text(text: str) -> str:
    """The first sentence stating a decision (处罚/判处/追缴), shortened for display."""
    for sentence in re.split(r"(?<=[。；\n])", text):
        if any(w in sentence for w in ("处理处罚决定", "作出", "判处", "处罚款", "追缴")):
            return sentence.strip()[:200]
    return ""


def _from_demo(obj: dict[str, Any], source: str) -> CaseDoc:
    violation = obj.get("violation_type")
    if violation is not None and violation not in VIOLATION_CODES:
        raise InvalidInput(
            "invalid_case",
            f"案例 {obj.get('id')} 的违法类型代码无效：{violation}",
            details={"source": source, "violation_type": violation},
        )
    text = str(obj["text"])
    cited = [str(x) for x in obj.get("statutes") or []]
    parsed = [] if cited else parse_citations(text)
    outcome = str(obj.get("outcome") or "")
    return CaseDoc(
        id=str(obj["id"]),
        title=str(obj.get("title") or ""),
        text=text,
        violation_type=violation,
        outcome=outcome,
        source=str(obj.get("source") or source),
        date=_parse_date(obj.get("date")),
        statutes=_dedupe(cited or [c.id for c in parsed]),
        doc_type="taxassist",
        region=tuple(str(r) for r in _as_list(obj.get("region"))),
        statute_notes=_notes(parsed),
        authority=str(obj.get("authority") or "") or bulletin_authority(text),
        amounts=structured_amounts(
            obj.get("tax_evaded"),
            obj.get("fine"),
            multiple=obj.get("multiple"),
            text=f"{text}\n{outcome}",
        ),
    )


def _from_bulletin(obj: dict[str, Any], index: int, source: str) -> CaseDoc:
    url = str(obj.get("url") or "")
    text = str(obj.get("content_text") or "")
    title = str(obj.get("title") or "")
    digest = hashlib.sha1(f"{url}#{index}".encode()).hexdigest()[:12]
    parsed = parse_citations(text)
    # A multi-case bulletin stays one document; its amounts belong to its cases, not to it.
    parts = split_bulletin(text)
    authorities = {bulletin_authority(p) for p in parts}
    single = len(parts) == 1 and not announces_several_cases(title)
    return CaseDoc(
        id=f"bulletin:{digest}",
        title=title,
        text=text,
        violation_type=classify_violation(title, text),
        outcome=_outcome_from_text(text),
        source=url or source,
        date=_parse_date(obj.get("publish_date")),
        statutes=_dedupe([c.id for c in parsed]),
        doc_type="bulletin",
        region=regions_in(text),
        statute_notes=_notes(parsed),
        authority=authorities.pop() if len(authorities) == 1 else "",
        amounts=amounts_in(text) if single else NO_AMOUNTS,
    )


def _from_cail(obj: dict[str, Any], line_no: int, source: str) -> CaseDoc:
    meta = obj.get("meta") or {}
    fact = str(obj.get("fact") or "")
    accusation = "、".join(str(a).strip("[]") for a in meta.get("accusation") or [])
    articles = [f"刑法:{int(a)}" for a in meta.get("relevant_articles") or []]
    term = meta.get("term_of_imprisonment") or {}
    read = amounts_in(fact)
    parts: list[str] = []
    if term.get("death_penalty"):
        parts.append("判处死刑")
    elif term.get("life_imprisonment"):
        parts.append("判处无期徒刑")
    elif term.get("imprisonment"):
        parts.append(f"判处有期徒刑{int(term['imprisonment'])}个月")
    if meta.get("punish_of_money"):
        parts.append(f"并处罚金{int(meta['punish_of_money'])}元")
    parsed = parse_citations(fact)
    return CaseDoc(
        id=f"cail:{line_no}",
        title=f"{accusation}案" if accusation else f"刑事判决 {line_no}",
        text=fact,
        violation_type=classify_violation(accusation, fact),
        outcome="，".join(parts),
        source=f"{source}:{line_no}",
        date=None,
        statutes=_dedupe(articles + [c.id for c in parsed]),
        doc_type="judgment",
        statute_notes=_notes(parsed),
        authority=judicial_authority(fact),
        # a court's 罚金 is a criminal penalty, not a 罚款: kept apart (CaseAmounts); a 罚款 the
        # facts state is the tax authority's earlier administrative fine
        amounts=CaseAmounts(
            tax_evaded=read.tax_evaded,
            fine=read.fine,
            multiple=read.multiple,
            criminal_fine=money_field(meta.get("punish_of_money")),
        ),
    )


#: Bumped when ingestion changes the cases a corpus yields (ids, splitting), so that an index
#: built by an older version is seen as stale and rebuilt (search.corpus_fingerprint).
INGESTION_VERSION = 2
_ORDINAL_HEAD = re.compile(r"^[一二三四五六七八九十百]+、")


def _bulletin_cases(obj: dict[str, Any], index: int, source: str) -> list[CaseDoc]:
    """The single cases of a bulletin that numbers several (一、…查处…案件), each with its own
    facts, citations, authority, region and amounts; `bulletin:<digest>-<n>`. A bulletin with one
    case, or one that announces several without numbering them, stays one document."""
    whole = _from_bulletin(obj, index, source)
    parts = split_bulletin(whole.text)
    if len(parts) < 2:
        return [whole]
    out: list[CaseDoc] = []
    for n, part in enumerate(parts, start=1):
        heading = _ORDINAL_HEAD.sub("", part.split("\n", 1)[0]).strip().rstrip("。")
        parsed = parse_citations(part)
        out.append(
            replace(
                whole,
                id=f"{whole.id}-{n}",
                title=heading or f"{whole.title}（{n}）",
                text=part,
                violation_type=classify_violation(heading, part) or whole.violation_type,
                outcome=_outcome_from_text(part),
                statutes=_dedupe([c.id for c in parsed]),
                statute_notes=_notes(parsed),
                region=regions_in(part) or whole.region,
                authority=bulletin_authority(part),
                amounts=amounts_in(part),
            )
        )
    return out


def case_docs(obj: dict[str, Any], *, line_no: int, source: str) -> list[CaseDoc]:
    """The cases one JSON line holds: a numbered multi-case bulletin gives one per case."""
    if "content_text" in obj and not ("fact" in obj and "meta" in obj):
        return _bulletin_cases(obj, line_no, source)
    return [parse_case_line(obj, line_no=line_no, source=source)]


def parse_case_line(obj: dict[str, Any], *, line_no: int, source: str) -> CaseDoc:
    """Map one JSON object of any supported format to a CaseDoc."""
    if "fact" in obj and "meta" in obj:
        return _from_cail(obj, line_no, source)
    if "content_text" in obj:
        return _from_bulletin(obj, line_no, source)
    if "id" in obj and "text" in obj:
        return _from_demo(obj, source)
    raise InvalidInput(
        "invalid_case",
        f"无法识别的案例格式：{source} 第{line_no}行",
        details={"source": source, "line": line_no, "keys": sorted(obj)[:20]},
    )


def _decision_places(obj: dict[str, Any]) -> tuple[str, ...]:
    places = [obj.get("province"), obj.get("city")]
    return tuple(str(p) for p in places if p and str(p) != "None")


def jsonl_objects(path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a JSONL file, blank lines skipped; nothing when the file is absent."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def load_decisions(folder: Path) -> list[CaseDoc]:
    """Issued decisions as cases (`decisions/fulltext.jsonl`, `records.jsonl` with facts).

    The id is `decision:<文号>`; a record whose text is also in fulltext.jsonl is skipped.
    """
    out: dict[str, CaseDoc] = {}
    full = folder / "fulltext.jsonl"
    for obj in jsonl_objects(full):
        text = str(obj.get("text") or "")
        number = str(obj.get("doc_number_detected") or obj.get("file") or "")
        if not text or not number:
            continue
        doc = str(obj.get("doc_type_detected") or "")
        parsed = parse_citations(text)
        out[f"decision:{number}"] = CaseDoc(
            id=f"decision:{number}",
            title=f"{obj.get('party') or ''}{doc}（{number}）",
            text=text,
            violation_type=classify_violation(text),
            outcome=_outcome_from_text(text),
            source=str(obj.get("original_url") or full),
            date=None,
            statutes=_dedupe([c.id for c in parsed]),
            doc_type="decision",
            region=_decision_places(obj) or regions_in(text),
            statute_notes=_notes(parsed),
            authority=head_authority(text) or str(obj.get("issuing_authority") or ""),
            # line breaks in extracted decisions are layout, not paragraphs
            amounts=amounts_in(re.sub(r"\s+", "", text)),
        )
    records = folder / "records.jsonl"
    for obj in jsonl_objects(records):
        facts = str(obj.get("violationFacts") or "")
        number = str(obj.get("documentNumber") or obj.get("id") or "")
        if not facts or facts == "None" or f"decision:{number}" in out:
            continue
        result = str(obj.get("result") or "")
        whole = f"{facts}\n{result}" if result != "None" else facts
        parsed = parse_citations(whole)
        out[f"decision:{number}"] = CaseDoc(
            id=f"decision:{number}",
            title=f"{obj.get('partyName') or ''}{obj.get('documentType') or ''}（{number}）",
            text=whole,
            violation_type=classify_violation(facts),
            outcome=result[:200] if result != "None" else "",
            source=str(obj.get("officialUrl") or records),
            date=_parse_date(obj.get("decisionDate")),
            statutes=_dedupe([c.id for c in parsed]),
            doc_type="decision",
            region=_decision_places(obj),
            statute_notes=_notes(parsed),
            authority=str(obj.get("issuingAuthority") or ""),
            amounts=structured_amounts(
                obj.get("recoveredTaxAmount"), obj.get("fineAmount"), text=whole
            ),
        )
    return list(out.values())


def load_cases(corpus_dirs: Sequence[Path]) -> list[CaseDoc]:
    """All cases of `<dir>/cases/*.jsonl` and `<dir>/decisions/`; a later case with the same id
    replaces an earlier one."""
    cases: dict[str, CaseDoc] = {}
    for corpus in corpus_dirs:
        for case in load_decisions(Path(corpus) / "decisions"):
            cases[case.id] = case
        folder = Path(corpus) / "cases"
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.jsonl")):
            with path.open(encoding="utf-8") as fh:
                for line_no, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InvalidInput(
                            "invalid_case",
                            f"案例文件不是有效的 JSON 行：{path} 第{line_no}行",
                            details={"source": str(path), "line": line_no},
                        ) from exc
                    for case in case_docs(obj, line_no=line_no, source=str(path)):
                        cases[case.id] = case
    return list(cases.values())
