"""The fact guard: a draft is released only when every fact in it comes from the record.

Why: a wrong article, amount, date, name, ID or period voids a decision, and a narrative written
by a person or an LLM can slip one in. The guard reads the draft *text* (not the template), so it
checks whatever produced it. Each fact-shaped token in the text is looked up in a `FactRecord`
built from the case record, the discretion result and the procedure rules:

- citations: parsed with `parse_citations`; each must exist in the StatuteBook version in force
  (on the decision date or, 行政处罚法第三十七条, on the date of the act), and must be one the
  record cites (the legal basis from discretion, or a fixed procedural clause of the template);
- amounts in figures (12,345.60元, 1.2万元) and in capitals (壹万贰仟元整): must be amounts of the
  record; the fine sentence and the total must state exactly the discretion amount;
- dates (2025年3月15日, 2025年3月, 二〇二六年十一月二十七日): must be dates of the record;
- names: the party line, the authority, the reconsideration body, the address, the legal
  representative, and every organisation-shaped name (…有限公司, …厂): must match the record;
- IDs (18-character 统一社会信用代码 / 身份证件号码): must be the party's or appear in the record;
- periods: statement, hearing request, payment, reconsideration, lawsuit and the additional
  fine rate must equal the procedure rules; the hearing paragraph is present exactly when the
  discretion result requires a hearing.

Each failure is a `Finding` with the offending span of the text, so the UI can mark it.
Limitation: person names are checked where the document labels them (party line, 法定代表人);
a bare person name inside free narrative is not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from assistant.drafting.context import PenaltyContext
from assistant.errors import Conflict, NotFound
from assistant.knowledge.citations import parse_citations
from assistant.knowledge.statutes import StatuteBook
from assistant.legal import StatuteId, bundled_markers, parse_integer, parse_numeral
from assistant.money import to_chinese_capitals, to_yuan

# Statute ids the templates cite in fixed procedural clauses (documents.py constants): the
# only citations a draft may carry beyond the record's legal basis. 行政诉讼法 and 行政复议法
# texts are not in the corpus (legal-notes.md), so their articles cannot be looked up: they are
# accepted only as these fixed clauses.
TEMPLATE_CITATIONS = frozenset(
    {
        "行政处罚法:44",
        "行政处罚法:45",
        "行政处罚法:45:1",
        "行政处罚法:45:2",
        "行政处罚法:63",
        "行政处罚法:64",
        "行政处罚法:67:3",
        "行政处罚法:72",
        "行政处罚法:72:1:1",
        "税收征收管理法:88:2",
        "税收征收管理法:88:3",
        "税收征收管理法:40",
        "行政诉讼法:46",
    }
)

_NUM = r"[0-9〇零一二三四五六七八九十百两]+"
_FIG_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
_CN_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日"
)
_FIG_AMOUNT = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(万)?元")
_CAPITALS = re.compile(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+元(?:[零壹贰叁肆伍陆柒捌玖][角分])*整?")
_ID = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{17}[0-9A-Z](?![0-9A-Z])")
_ORG = re.compile(
    r"[\u4e00-\u9fa5（）()]{2,40}?"
    r"(?:股份有限公司|有限责任公司|有限公司|分公司|合作社|个体工商户|经营部|门市部|商行|工厂|厂)"
)
# the party line: 名称（证件类型：号码）： — not a signature line like 询问人（签名）：
_PARTY_LINE = re.compile(r"^(?P<name>[^\n（]+)（(?P<label>[^：）\n]+)：(?P<id>[^）\s]+)）：$", re.M)
_ADDRESS = re.compile(r"（地址：(?P<address>[^）\n]+)）")
_LEGAL_REP = re.compile(r"法定代表人[：:]?[ \t]*(?P<name>[\u4e00-\u9fa5·]{2,8})")
_RECONSIDERATION = re.compile(rf"{_NUM}日内依法向(?P<body>[^\n，。]+?)申请行政复议")

# period name -> pattern whose group "n" is the number the draft states
_PERIODS: dict[str, re.Pattern[str]] = {
    "statement_days": re.compile(rf"本告知书之日起(?P<n>{_NUM})日内\s*到\S{{1,3}}进行陈述"),
    "hearing_request_days": re.compile(rf"之日起(?P<n>{_NUM})日内\s*向\S{{1,3}}书面提出听证"),
    "payment_days": re.compile(rf"送达之日起(?P<n>{_NUM})日内"),
    "reconsideration_days": re.compile(rf"之日起(?P<n>{_NUM})日内依法向"),
    "lawsuit_months": re.compile(rf"(?P<n>{_NUM})个月内依法向人民法院起诉"),
}
_LATE_RATE = re.compile(
    r"每日按罚款数额的(?:百分之(?P<cn>[0-9〇零一二三四五六七八九十点]+)|(?P<fig>[\d.]+)%)"
)
_FINE = re.compile(
    r"(?:处以|处)罚款(?P<amount>[\d,]+(?:\.\d+)?)元(?:（大写：(?P<capitals>[^）]+)）)?"
)
_TOTAL = re.compile(r"应缴款项共计(?P<amount>[\d,]+(?:\.\d+)?)元")
_HEARING = re.compile(r"要求听证的权利")
_DIGITS = re.compile(r"(?<![\d.,])\d+(?:\.\d+)?(?![\d.,]*\d)")
_LIST_INDEX = re.compile(r"^\d+\.", re.M)
_ORDER_MARKER = re.compile(r"国务院令第(?P<n>\d+)号修订")


@dataclass(frozen=True)
class Finding:
    """One fact in the draft that the record does not support, with its span in the text."""

    kind: str  # citation, amount, date, name, id, period
    start: int
    end: int
    text: str
    message: str
    expected: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "span": [self.start, self.end],
            "text": self.text,
            "message": self.message,
            "expected": self.expected,
        }


@dataclass(frozen=True)
class FactRecord:
    """What the record says: the only facts a draft may state."""

    party_name: str
    party_id: str
    authority: str
    reconsideration_body: str
    decision_date: date
    fine: Decimal
    hearing_required: bool
    periods: dict[str, int]
    late_fine_rate_percent: Decimal
    legal_basis: tuple[str, ...]
    address: str | None = None
    legal_representative: str | None = None
    act_date: date | None = None  # date of the violation (law at the time of the act)
    doc_number: str | None = None
    # free texts of the record (facts, evidence, transcript): their amounts, dates, names and
    # IDs are facts of the record too
    sources: tuple[str, ...] = ()
    amounts: tuple[Decimal, ...] = ()
    dates: tuple[date, ...] = ()
    names: tuple[str, ...] = ()

    @classmethod
    def from_context(
        cls,
        ctx: PenaltyContext,
        *,
        hearing_required: bool | None = None,
        act_date: date | None = None,
        sources: Iterable[str] = (),
        amounts: Iterable[Decimal] = (),
        dates: Iterable[date] = (),
    ) -> FactRecord:
        """The record a PenaltyContext was assembled from (case, discretion, procedure rules)."""
        periods = {
            "statement_days": ctx.statement_days,
            "payment_days": ctx.payment_days,
            "reconsideration_days": ctx.reconsideration_days,
            "lawsuit_months": ctx.lawsuit_months,
            "hearing_request_days": ctx.hearing_request_days,
        }
        extra_dates = list(dates)
        for period in (ctx.inspection_period, ctx.tax_period):
            if period:
                extra_dates.extend(period)
        names = [n for n in (ctx.payment_place,) if n]
        return cls(
            party_name=ctx.party.name,
            party_id=ctx.party.id_number,
            authority=ctx.authority,
            reconsideration_body=ctx.reconsideration_body,
            decision_date=ctx.decision_date,
            fine=to_yuan(ctx.amount),
            hearing_required=ctx.hearing_offered if hearing_required is None else hearing_required,
            periods=periods,
            late_fine_rate_percent=ctx.late_fine_rate_percent,
            legal_basis=tuple(
                b.statute_id.split("@", 1)[0]
                for b in (*ctx.legal_basis, *(ctx.finding.provisions if ctx.finding else ()))
            ),
            address=ctx.party.address,
            legal_representative=ctx.party.legal_representative,
            act_date=act_date,
            doc_number=ctx.doc_number,
            sources=(ctx.facts, *ctx.evidence, ctx.benchmark_citation or "", *sources),
            amounts=(
                *amounts,
                *((ctx.fine_base.amount,) if ctx.fine_base else ()),
                *(
                    (to_yuan(ctx.confiscation), to_yuan(ctx.amount + ctx.confiscation))
                    if ctx.confiscation > 0
                    else ()
                ),
            ),
            dates=tuple(extra_dates),
            names=tuple(names),
        )


@dataclass
class GuardReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dicts(self) -> list[dict[str, object]]:
        return [f.as_dict() for f in self.findings]


# -- parsing helpers ------------------------------------------------------------------------------
def _number(raw: str) -> int | None:
    """A whole number in figures or Chinese numerals; None for what reads as no number."""
    try:
        return parse_integer(raw)
    except ValueError:
        return None


def _figure(raw: str, wan: str | None) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    return to_yuan(value * 10000 if wan else value)


def _cn_date(match: re.Match[str]) -> date | None:
    year, month, day = (_number(match.group(n)) for n in (1, 2, 3))
    try:
        return date(year or 0, month or 0, day or 0)
    except ValueError:
        return None


def _fig_dates(text: str) -> Iterator[tuple[re.Match[str], int, int, int | None]]:
    for m in _FIG_DATE.finditer(text):
        day = int(m.group(3)) if m.group(3) else None
        yield m, int(m.group(1)), int(m.group(2)), day


def _record_amounts(record: FactRecord) -> set[Decimal]:
    found = {record.fine, *(to_yuan(a) for a in record.amounts)}
    for source in record.sources:
        for m in _FIG_AMOUNT.finditer(source):
            value = _figure(m.group(1), m.group(2))
            if value is not None:
                found.add(value)
    return found


def _record_days(record: FactRecord) -> tuple[set[date], set[tuple[int, int]]]:
    days = {record.decision_date, *record.dates}
    if record.act_date:
        days.add(record.act_date)
    months: set[tuple[int, int]] = set()
    for source in record.sources:
        for _, y, mo, d in _fig_dates(source):
            if d is None:
                months.add((y, mo))
                continue
            try:
                days.add(date(y, mo, d))
            except ValueError:
                continue
        for m in _CN_DATE.finditer(source):
            parsed = _cn_date(m)
            if parsed:
                days.add(parsed)
    months |= {(d.year, d.month) for d in days}
    return days, months


def _record_names(record: FactRecord) -> list[str]:
    names = [record.party_name, record.authority, record.reconsideration_body, *record.names]
    for source in record.sources:
        names.extend(m.group(0) for m in _ORG.finditer(source))
    return [n for n in names if n]


# -- the checks -----------------------------------------------------------------------------------
def _check_citations(text: str, record: FactRecord, book: StatuteBook, out: list[Finding]) -> None:
    allowed = set(record.legal_basis) | TEMPLATE_CITATIONS
    for source in record.sources:  # the officer's own facts may quote a provision
        allowed.update(c.id for c in parse_citations(source))
    laws = set(book.laws())
    # the law at the time of the act first (行政处罚法第三十七条), then the one at decision
    on_dates = ([record.act_date] if record.act_date else []) + [record.decision_date]
    for cite in parse_citations(text):
        start, end = cite.span
        span_text = text[start:end]
        if cite.law in laws:
            found = []
            for on in on_dates:
                try:
                    found.append(book.get(StatuteId.parse(cite.id).article_id, on))
                except NotFound:
                    continue
            if not found and cite.id in TEMPLATE_CITATIONS:
                continue  # fixed clause checked against the official text; summaries may omit it
            if not found:
                out.append(
                    Finding(
                        "citation",
                        start,
                        end,
                        span_text,
                        f"《{cite.law}》适用的版本中没有该条文：{cite.id}",
                    )
                )
                continue
            # 款 are counted as the statute book splits them (项 lines belong to their 款); 项
            # are not checked: the demo summaries omit them
            if cite.paragraph is not None and all(
                a.provision(cite.paragraph) is None for a in found
            ):
                most = max(len(a.clauses()) for a in found)
                out.append(
                    Finding("citation", start, end, span_text, f"{cite.id}：该条只有{most}款")
                )
                continue
        if cite.id not in allowed:
            out.append(
                Finding(
                    "citation",
                    start,
                    end,
                    span_text,
                    f"引用的法条不在案件记录的法律依据中：{cite.id}",
                    expected="、".join(record.legal_basis),
                )
            )


def _check_amounts(text: str, record: FactRecord, out: list[Finding]) -> None:
    allowed = _record_amounts(record)
    capitals = {to_chinese_capitals(a) for a in allowed}
    for m in _FIG_AMOUNT.finditer(text):
        value = _figure(m.group(1), m.group(2))
        if value not in allowed:
            out.append(Finding("amount", m.start(), m.end(), m.group(0), "金额与案件记录不符"))
    for m in _CAPITALS.finditer(text):
        if m.group(0) not in capitals:
            out.append(Finding("amount", m.start(), m.end(), m.group(0), "大写金额与案件记录不符"))
    fine = to_chinese_capitals(record.fine)
    for pattern in (_FINE, _TOTAL):
        for m in pattern.finditer(text):
            value = _figure(m.group("amount"), None)
            if value != record.fine:
                out.append(
                    Finding(
                        "amount",
                        m.start("amount"),
                        m.end("amount"),
                        m.group("amount"),
                        "罚款金额与裁量结果不符",
                        expected=str(record.fine),
                    )
                )
            caps = m.groupdict().get("capitals")
            if caps is not None and caps != fine:
                out.append(
                    Finding(
                        "amount",
                        m.start("capitals"),
                        m.end("capitals"),
                        caps,
                        "大写金额与裁量结果不符",
                        expected=fine,
                    )
                )


def _check_dates(text: str, record: FactRecord, out: list[Finding]) -> None:
    days, months = _record_days(record)
    for m, y, mo, d in _fig_dates(text):
        ok = (y, mo) in months if d is None else _safe_date(y, mo, d) in days
        if not ok:
            out.append(Finding("date", m.start(), m.end(), m.group(0), "日期与案件记录不符"))
    for m in _CN_DATE.finditer(text):
        if _cn_date(m) not in days:
            out.append(Finding("date", m.start(), m.end(), m.group(0), "日期与案件记录不符"))


def _safe_date(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def _check_names(
    text: str, record: FactRecord, out: list[Finding], *, whole_document: bool = True
) -> None:
    lines = text.split("\n")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    # header authority (first line) and the signature line before the seal
    first = 1 if lines and lines[0].startswith(SAMPLE_MARK_PREFIX) else 0
    expected_lines = {first: record.authority} if whole_document else {}
    for i, line in enumerate(lines):
        if line.strip() == "（印章）" and i > 0:
            expected_lines[i - 1] = record.authority
    for i, want in expected_lines.items():
        if i < len(lines) and lines[i].strip() != want:
            out.append(
                Finding(
                    "name",
                    offsets[i],
                    offsets[i] + len(lines[i]),
                    lines[i],
                    "税务机关名称与记录不符",
                    want,
                )
            )
    for m in _PARTY_LINE.finditer(text):
        if m.group("name") != record.party_name:
            out.append(
                Finding(
                    "name",
                    m.start("name"),
                    m.end("name"),
                    m.group("name"),
                    "当事人名称与记录不符",
                    record.party_name,
                )
            )
        if m.group("id") != record.party_id:
            out.append(
                Finding(
                    "id",
                    m.start("id"),
                    m.end("id"),
                    m.group("id"),
                    "证件号码与记录不符",
                    record.party_id,
                )
            )
    for m in _ADDRESS.finditer(text):
        if m.group("address") != (record.address or ""):
            out.append(
                Finding(
                    "name",
                    m.start("address"),
                    m.end("address"),
                    m.group("address"),
                    "地址与记录不符",
                    record.address,
                )
            )
    for m in _RECONSIDERATION.finditer(text):
        if m.group("body") != record.reconsideration_body:
            out.append(
                Finding(
                    "name",
                    m.start("body"),
                    m.end("body"),
                    m.group("body"),
                    "复议机关与记录不符",
                    record.reconsideration_body,
                )
            )
    for m in _LEGAL_REP.finditer(text):
        name = m.group("name")
        if record.legal_representative and name.startswith(record.legal_representative):
            continue
        if not any(m.group(0) in source for source in record.sources):  # others' in the facts
            out.append(
                Finding(
                    "name",
                    m.start("name"),
                    m.end("name"),
                    name,
                    "法定代表人与记录不符",
                    record.legal_representative,
                )
            )
    known = _record_names(record)
    for m in _ORG.finditer(text):
        if not any(m.group(0).endswith(n) or n.endswith(m.group(0)) for n in known):
            out.append(Finding("name", m.start(), m.end(), m.group(0), "单位名称不在案件记录中"))


def _check_ids(text: str, record: FactRecord, out: list[Finding]) -> None:
    allowed = {record.party_id}
    for source in record.sources:
        allowed.update(m.group(0) for m in _ID.finditer(source))
    if record.doc_number:
        allowed.update(m.group(0) for m in _ID.finditer(record.doc_number))
    for m in _ID.finditer(text):
        if m.group(0) not in allowed:
            out.append(
                Finding(
                    "id", m.start(), m.end(), m.group(0), "证件号码不在案件记录中", record.party_id
                )
            )


def _check_periods(text: str, record: FactRecord, out: list[Finding]) -> None:
    for name, pattern in _PERIODS.items():
        want = record.periods.get(name)
        for m in pattern.finditer(text):
            if name == "statement_days":  # 陈述、申辩 runs until the decision: no cut-off at all
                out.append(
                    Finding(
                        "period",
                        m.start("n"),
                        m.end("n"),
                        m.group("n"),
                        "陈述、申辩不得限定期限：当事人在作出处罚决定前均可陈述、申辩"
                        "（行政处罚法第四十五条、第六十二条）",
                    )
                )
            elif _number(m.group("n")) != want:
                out.append(
                    Finding(
                        "period",
                        m.start("n"),
                        m.end("n"),
                        m.group("n"),
                        f"期限与程序规则不符（{name}）",
                        str(want),
                    )
                )
    for m in _LATE_RATE.finditer(text):
        raw = m.group("cn") or m.group("fig")
        value = Decimal(raw) if m.group("fig") else _cn_decimal(raw)
        if value != record.late_fine_rate_percent:
            out.append(
                Finding(
                    "period",
                    m.start(),
                    m.end(),
                    m.group(0),
                    "加处罚款比例与程序规则不符",
                    f"{record.late_fine_rate_percent}%",
                )
            )
    body = text.split("\n", 1)[1] if text.startswith(SAMPLE_MARK_PREFIX) else text
    is_notice = "告知书" in body.split("\n", 2)[1] if "\n" in body else False
    hearing = _HEARING.search(text)
    if is_notice and record.hearing_required and hearing is None:
        out.append(Finding("period", 0, 0, "", "裁量结果要求告知听证权利，但文书中没有听证告知"))
    if hearing is not None and not record.hearing_required:
        out.append(
            Finding(
                "period",
                hearing.start(),
                hearing.end(),
                hearing.group(0),
                "裁量结果不要求听证，文书却告知了听证权利",
            )
        )


def _cn_decimal(raw: str) -> Decimal | None:
    """三点五 -> 3.5, 三 -> 3; None for what reads as no number."""
    try:
        return parse_numeral(raw)
    except ValueError:
        return None


def _check_numbers(text: str, record: FactRecord, out: list[Finding]) -> None:
    """Any other figure (days overdue, counts, house numbers) must appear in the record."""
    covered: list[tuple[int, int]] = []
    for pattern in (_FIG_DATE, _FIG_AMOUNT, _ID):
        covered.extend(m.span() for m in pattern.finditer(text))
    covered.extend(m.span() for m in _LIST_INDEX.finditer(text))
    orders = {n for markers in bundled_markers().values() for n in markers}
    for m in _ORDER_MARKER.finditer(text):  # 国务院令第764号修订: a known revision only
        if int(m.group("n")) in orders:
            covered.append(m.span())
    sources = [*record.sources, record.address or "", record.doc_number or ""]
    allowed = {m.group(0) for src in sources for m in _DIGITS.finditer(src)}
    for m in _DIGITS.finditer(text):
        if any(a <= m.start() < b for a, b in covered) or m.group(0) in allowed:
            continue
        out.append(Finding("number", m.start(), m.end(), m.group(0), "数字不在案件记录中"))


#: A leading line so marked says the document rests on the sample benchmark (not a fact).
SAMPLE_MARK_PREFIX = "【样本】"
_REMEDY_WORDS = ("申请行政复议", "人民法院起诉", "人民法院提起诉讼")


def _remedy_sentences(text: str) -> list[str]:
    return [
        part.strip() + "。"
        for line in text.splitlines()
        for part in line.split("。")
        if any(word in part for word in _REMEDY_WORDS)
    ]


def remedy_changes(before: str, after: str) -> list[Finding]:
    """Remedy clauses a revision removed or changed: refused, because a decision must state the
    bodies and periods of reconsideration and lawsuit (行政处罚法第五十九条第一款第（五）项) and the
    drafted clause is the one the procedure rules give."""
    kept = set(_remedy_sentences(after))
    return [
        Finding(
            "remedy",
            0,
            0,
            sentence,
            "不得删除或者改动救济途径（申请行政复议、提起行政诉讼的途径和期限）",
        )
        for sentence in _remedy_sentences(before)
        if sentence not in kept
    ]


def _check_remedy_present(text: str, out: list[Finding]) -> None:
    """A decision (决定书, not a 告知书) states how to challenge it."""
    head = "\n".join(text.split("\n", 4)[:4])
    if "决定书" in head and "告知书" not in head and not _remedy_sentences(text):
        out.append(
            Finding(
                "remedy", 0, 0, "", "决定书缺少救济途径（行政处罚法第五十九条第一款第（五）项）"
            )
        )


def check_draft(
    text: str, record: FactRecord, book: StatuteBook, *, whole_document: bool = True
) -> GuardReport:
    """Every fact-shaped span of `text` that the record does not support, in text order.

    `whole_document=False` checks a passage (a generated narrative): no header, signature or
    hearing-section expectations, every fact in it still from the record.
    """
    findings: list[Finding] = []
    _check_citations(text, record, book, findings)
    _check_amounts(text, record, findings)
    _check_dates(text, record, findings)
    _check_names(text, record, findings, whole_document=whole_document)
    _check_ids(text, record, findings)
    if whole_document:
        _check_periods(text, record, findings)
        _check_remedy_present(text, findings)
    _check_numbers(text, record, findings)
    findings.sort(key=lambda f: (f.start, f.end, f.kind))
    return GuardReport(findings)


def require_clean(report: GuardReport) -> None:
    """Block release: a 409 listing every offending span."""
    if not report.ok:
        raise Conflict(
            "fact_check_failed",
            f"文书核查未通过：发现{len(report.findings)}处与案件记录不符的内容，不能发出。",
            details={"findings": report.as_dicts()},
        )
