"""税务行政处罚事项告知书 and 税务行政处罚决定书 as .docx, in the order and wording of issued ones.

The structure follows the real decisions in ../shared/corpora/decisions (authority, title, 文号,
party line, inspection line, 一、违法事实及证据, 二、处罚决定, payment and additional fine,
remedies and enforcement, seal, date); the sentences are written here. Every period and rate
comes from the PenaltyContext; every fixed legal clause carries the statute ids it rests on.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH

from assistant.drafting.context import Finding, LegalBasis, PenaltyContext
from assistant.drafting.layout import Role, add_paragraph, setup_page
from assistant.drafting.numerals import chinese_date, figure_date
from assistant.drafting.text import addressed_to_party, to_document_text
from assistant.errors import InvalidInput
from assistant.legal import chinese_number, chinese_percent, cite_all
from assistant.money import format_yuan, to_chinese_capitals, to_yuan


class DocumentType(StrEnum):
    PENALTY_NOTICE = "penalty_notice"  # 税务行政处罚事项告知书
    PENALTY_DECISION = "penalty_decision"  # 税务行政处罚决定书


TITLES: dict[DocumentType, str] = {
    DocumentType.PENALTY_NOTICE: "税务行政处罚事项告知书",
    DocumentType.PENALTY_DECISION: "税务行政处罚决定书",
}

SEAL_PLACEHOLDER = "（印章）"
# Printed on every document whose tier comes from the bundled sample benchmark: the sample is
# no region's published 裁量基准, so a document resting on it must not pass for an issued one.
SAMPLE_MARK = (
    "【样本】本文书的裁量阶次取自TaxAssist样本裁量基准，并非正式公布的裁量基准，"
    "不得作为正式文书送达。"
)

# Fixed clauses and the provisions they rest on (each checked against the statute text in
# ../shared/corpora/statutes, or legal-notes.md where the text is absent).
# 行政处罚法第四十四条: notice of content, facts, reasons, basis and of the rights to state,
# defend and request a hearing; 第四十五条: the right to state and defend, review, and
# 第二款 no heavier penalty because of it.
NOTICE_BASIS = ("行政处罚法:44", "行政处罚法:45")
STATEMENT_BASIS = ("行政处罚法:44", "行政处罚法:45:1", "行政处罚法:45:2", "行政处罚法:62")
# 行政处罚法第四十五条第一款: the party may state and defend its case; 第六十二条: a decision
# is not made before the party was heard — so the notice sets no cut-off for 陈述申辩 (only the
# hearing request has one: 第六十四条第（一）项, five days).
# 行政处罚法第六十三条 (hearing for 较大数额罚款), 第六十四条第（一）项 (request within 5 days).
HEARING_BASIS = ("行政处罚法:63", "行政处罚法:64")
# 行政处罚法第六十七条第三款: pay within fifteen days at the designated bank or electronically.
PAYMENT_BASIS = ("行政处罚法:67:3",)
# 行政处罚法第七十二条第一款第（一）项: 3% a day, never more than the fine.
LATE_FINE_BASIS = ("行政处罚法:72:1:1",)
# 税收征收管理法第八十八条第二款 (penalty decisions: reconsideration or lawsuit directly);
# 行政诉讼法第四十六条 (six months; legal-notes.md, text not in corpora).
REMEDY_BASIS = ("税收征收管理法:88:2", "行政诉讼法:46")
# 税收征收管理法第八十八条第三款 (enforcement under 第四十条 or by the court), 行政处罚法第七十二条.
ENFORCEMENT_BASIS = ("税收征收管理法:88:3", "行政处罚法:72")


@dataclass(frozen=True)
class RenderedDocument:
    """The .docx and the same content as text, paragraph per line, for checks and preview."""

    doc_type: str  # the registry code of the type (assistant.documents.registry)
    title: str
    docx: bytes
    text: str
    sections: tuple[str, ...]
    provenance: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Block:
    text: str
    kind: str  # mark, authority, title, number, party, body, heading, evidence, sign, seal, date


@dataclass
class Draft:
    blocks: list[_Block] = field(default_factory=list)
    provenance: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, text: str, kind: str = "body") -> None:
        self.blocks.append(_Block(text, kind))

    def cite(self, key: str, ids: tuple[str, ...]) -> None:
        if not ids:
            return
        merged = list(self.provenance.get(key, ()))
        merged += [i for i in ids if i not in merged]
        self.provenance[key] = tuple(merged)


def _law(statute_id: str) -> LegalBasis:
    return LegalBasis(statute_id, "中华人民共和国" + statute_id.split(":", 1)[0])


def cite_ids(*statute_ids: str) -> str:
    """Provisions by id as a document cites them (《中华人民共和国…》第…条), for fixed clauses."""
    return cite_all([_law(s) for s in statute_ids])


def _pronoun(ctx: PenaltyContext) -> str:
    return "你单位" if ctx.party.kind == "organisation" else "你"


def _we(ctx: PenaltyContext) -> str:
    """How the authority names itself: 我局, or 我所 for a 税务所."""
    return "我所" if ctx.authority.endswith("所") else "我局"


def days_text(n: int) -> str:
    """A period in days as documents print it: 十五日."""
    return f"{chinese_number(n)}日"


def _amount(ctx: PenaltyContext) -> str:
    return f"{format_yuan(ctx.amount)}（大写：{to_chinese_capitals(ctx.amount)}）"


def _validate(ctx: PenaltyContext) -> None:
    party = ctx.party
    missing = [
        f"party.{name}"
        for name in ("name", "id_label", "id_number")
        if not str(getattr(party, name) or "").strip()
    ]
    if missing:
        raise InvalidInput(
            "missing_party_data",
            "当事人信息不完整：缺少名称、证件类型或证件号码。",
            details={"fields": missing},
        )
    if ctx.decision == "no_penalty":
        raise InvalidInput(
            "not_a_penalty",
            "不予处罚的案件不能制作税务行政处罚事项告知书或决定书。",
            details={"decision": ctx.decision},
        )
    missing = [name for name in ("authority", "doc_number") if not getattr(ctx, name).strip()]
    if missing:
        raise InvalidInput(
            "missing_document_data",
            "文书信息不完整：缺少税务机关名称或文书字号。",
            details={"fields": missing},
        )
    if not ctx.facts.strip():
        raise InvalidInput("missing_facts", "缺少违法事实。", details={"fields": ["facts"]})
    if isinstance(ctx.amount, float) or not isinstance(ctx.amount, Decimal):
        raise InvalidInput(
            "invalid_amount",
            "罚款金额须以元为单位的精确数值给出。",
            details={"amount": str(ctx.amount)},
        )
    if not ctx.amount.is_finite() or to_yuan(ctx.amount) <= 0:
        raise InvalidInput(
            "invalid_amount", "罚款金额应大于零。", details={"amount": str(ctx.amount)}
        )
    if not isinstance(ctx.confiscation, Decimal) or to_yuan(ctx.confiscation) < 0:
        raise InvalidInput(
            "invalid_amount",
            "没收违法所得金额应为不小于零的精确数值。",
            details={"confiscation": str(ctx.confiscation)},
        )
    periods = {
        "statement_days": ctx.statement_days,
        "payment_days": ctx.payment_days,
        "reconsideration_days": ctx.reconsideration_days,
        "lawsuit_months": ctx.lawsuit_months,
    }
    if ctx.hearing_offered:
        periods["hearing_request_days"] = ctx.hearing_request_days
    bad = sorted(name for name, value in periods.items() if not 0 < value < 1000)
    if bad:
        raise InvalidInput("invalid_period", "期限应为正整数。", details={"fields": bad})
    rate = ctx.late_fine_rate_percent
    if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 < rate <= 100:
        raise InvalidInput(
            "invalid_rate", "加处罚款比例应在0至100之间。", details={"rate": str(rate)}
        )
    if not ctx.reconsideration_body.strip():
        raise InvalidInput(
            "missing_document_data",
            "缺少行政复议机关。",
            details={"fields": ["reconsideration_body"]},
        )


def _header(draft: Draft, ctx: PenaltyContext, doc_type: DocumentType) -> None:
    party = ctx.party
    if ctx.benchmark_is_sample:
        draft.add(SAMPLE_MARK, "mark")
    draft.add(ctx.authority, "authority")
    draft.add(TITLES[doc_type], "title")
    draft.add(ctx.doc_number, "number")
    draft.add(f"{party.name}（{party.id_label}：{party.id_number}）：", "party")


def _address(ctx: PenaltyContext) -> str:
    return f"（地址：{ctx.party.address}）" if ctx.party.address else ""


def finding_sentence(finding: Finding, you: str) -> str:
    """已构成偷税 (a defining article) or 违反了…的规定，构成…的违法行为 (a breached duty)."""
    if not finding.provisions:
        return f"{you}的上述行为构成{finding.name}的违法行为。"
    basis = cite_all(finding.provisions)
    if finding.defines:
        return f"根据{basis}的规定，{you}的上述行为已构成{finding.name}。"
    return f"{you}的上述行为违反了{basis}的规定，构成{finding.name}的违法行为。"


def _facts_and_evidence(draft: Draft, ctx: PenaltyContext) -> None:
    you = _pronoun(ctx)
    for line in addressed_to_party(ctx.facts, ctx.party.name, you).splitlines():
        draft.add(line)
    draft.cite("facts", tuple(ctx.provenance.get("facts", ())))
    if ctx.finding is not None:
        draft.add(finding_sentence(ctx.finding, you))
        draft.cite("finding", tuple(b.statute_id for b in ctx.finding.provisions))
    evidence = [to_document_text(e).replace("\n", "") for e in ctx.evidence if e.strip()]
    if evidence:
        draft.add("上述违法事实，主要有以下证据证明：")
        for index, item in enumerate(evidence, start=1):
            draft.add(f"{index}.{item.rstrip('；;。')}{'。' if index == len(evidence) else '；'}")
        draft.cite("evidence", tuple(ctx.provenance.get("evidence", ())))


def _rate_percent(ctx: PenaltyContext) -> Decimal | None:
    """The multiple as a percentage when the fine is exactly base × rate, else None."""
    base = ctx.fine_base
    if base is None or base.amount <= 0 or base.rate <= 0:
        return None
    if to_yuan(base.amount * base.rate) != to_yuan(ctx.amount):
        return None
    return (base.rate * 100).normalize()


def _penalty_sentence(draft: Draft, ctx: PenaltyContext, *, proposed: bool) -> None:
    """根据…的规定，[符合裁量基准…的适用条件，]（拟）对你单位处以罚款…元（大写…）; a multiple
    is stated as decisions state it: 对你单位少缴的税款…元，处百分之七十五的罚款，计…元."""
    basis = cite_all(ctx.legal_basis)
    draft.cite("legal_basis", tuple(b.statute_id for b in ctx.legal_basis))
    you = _pronoun(ctx)
    sentence = f"根据{basis}的规定，"
    if ctx.benchmark_citation and ctx.benchmark_citation.strip() and not ctx.benchmark_is_sample:
        citation = to_document_text(ctx.benchmark_citation).replace("\n", "")
        sentence += f"{you}上述违法行为符合{citation}的适用条件，"
        draft.cite("benchmark", tuple(ctx.provenance.get("benchmark", ())))
    verb = "拟对" if proposed else "决定对"
    percent = _rate_percent(ctx)
    if ctx.fine_base is not None and percent is not None:
        sentence += (
            f"{verb}{you}{ctx.fine_base.label}{format_yuan(ctx.fine_base.amount)}，"
            f"处{chinese_percent(percent)}的罚款，计{_amount(ctx)}"
        )
        draft.cite("multiple", tuple(b.statute_id for b in ctx.legal_basis))
    else:
        sentence += f"{verb}{you}处以罚款{_amount(ctx)}"
    if ctx.confiscation > 0:
        gains = to_yuan(ctx.confiscation)
        sentence += f"，没收违法所得{format_yuan(gains)}（大写：{to_chinese_capitals(gains)}）"
    sentence += "。"
    draft.add(sentence)
    draft.cite("penalty", tuple(b.statute_id for b in ctx.legal_basis))
    draft.cite("penalty", tuple(ctx.provenance.get("penalty", ())))


def _signature(draft: Draft, ctx: PenaltyContext) -> None:
    draft.add(ctx.authority, "sign")
    draft.add(SEAL_PLACEHOLDER, "seal")
    draft.add(chinese_date(ctx.decision_date), "date")


def _notice(ctx: PenaltyContext) -> tuple[Draft, tuple[str, ...]]:
    draft = Draft()
    you, we = _pronoun(ctx), _we(ctx)
    _header(draft, ctx, DocumentType.PENALTY_NOTICE)
    basis = NOTICE_BASIS + (HEARING_BASIS if ctx.hearing_offered else ())
    draft.add(
        f"对{you}{_address(ctx)}的税收违法行为，{we}拟作出税务行政处罚决定。"
        f"根据{cite_ids(*basis)}的规定，现将有关事项告知如下："
    )
    draft.cite("notice_basis", basis)

    headings = ["一、拟作出的税务行政处罚的事实、理由、依据及内容", "二、陈述、申辩的权利"]
    draft.add(headings[0], "heading")
    _facts_and_evidence(draft, ctx)
    _penalty_sentence(draft, ctx, proposed=True)

    draft.add(headings[1], "heading")
    draft.add(
        f"{you}有陈述、申辩的权利。在{we}作出税务行政处罚决定之前，{you}可以到{we}进行"
        f"陈述、申辩，或者提交书面陈述、申辩材料。{we}将对{you}提出的事实、理由和证据"
        f"进行复核，不因{you}陈述、申辩而给予更重的处罚。"
    )
    draft.cite("statement", STATEMENT_BASIS)

    if ctx.hearing_offered:
        headings.append("三、要求听证的权利")
        draft.add(headings[2], "heading")
        draft.add(
            f"根据{cite_ids(*HEARING_BASIS)}的规定，{you}有要求听证的权利。"
            f"如要求听证，请自收到本告知书之日起{days_text(ctx.hearing_request_days)}内"
            f"向{we}书面提出听证申请；逾期未提出的，视为放弃听证的权利。"
        )
        draft.cite("hearing", HEARING_BASIS)
    _signature(draft, ctx)
    return draft, tuple(headings)


def _inspection_line(ctx: PenaltyContext) -> str:
    you, we = _pronoun(ctx), _we(ctx)
    when = ""
    if ctx.inspection_period:
        start, end = ctx.inspection_period
        when = f"于{figure_date(start)}起至{figure_date(end)}"
    period = ""
    if ctx.tax_period:
        start, end = ctx.tax_period
        period = f"{figure_date(start)}至{figure_date(end)}期间"
    return (
        f"经{we}{when}对{you}{_address(ctx)}{period}的涉税情况进行了检查，"
        f"{you}存在违法事实及处罚决定如下："
    )


def _decision(ctx: PenaltyContext) -> tuple[Draft, tuple[str, ...]]:
    draft = Draft()
    you, we = _pronoun(ctx), _we(ctx)
    _header(draft, ctx, DocumentType.PENALTY_DECISION)
    draft.add(_inspection_line(ctx))
    headings = ("一、违法事实及证据", "二、处罚决定")
    draft.add(headings[0], "heading")
    _facts_and_evidence(draft, ctx)
    draft.add(headings[1], "heading")
    _penalty_sentence(draft, ctx, proposed=False)

    where = (
        f"到{ctx.payment_place}缴纳入库"
        if ctx.payment_place and ctx.payment_place.strip()
        else "到指定的银行或者通过电子支付系统缴纳"
    )
    total = to_yuan(ctx.amount + ctx.confiscation)
    draft.add(
        f"以上应缴款项共计{format_yuan(total)}。限{you}自本决定书送达之日起"
        f"{days_text(ctx.payment_days)}内{where}。到期不缴纳罚款的，{we}可以依照"
        f"{cite_ids(*LATE_FINE_BASIS)}的规定，每日按罚款数额的"
        f"{chinese_percent(ctx.late_fine_rate_percent)}加处罚款，加处罚款的数额不得超出罚款的数额。"
    )
    draft.cite("payment", PAYMENT_BASIS)
    draft.cite("late_fine", LATE_FINE_BASIS)

    draft.add(
        f"如对本决定不服，可以自收到本决定书之日起{days_text(ctx.reconsideration_days)}内依法向"
        f"{ctx.reconsideration_body}申请行政复议，或者自收到本决定书之日起"
        f"{chinese_number(ctx.lawsuit_months)}个月内依法向人民法院起诉。"
        f"如对处罚决定逾期不申请行政复议也不向人民法院起诉、又不履行的，{we}可以依照"
        f"{cite_ids(*ENFORCEMENT_BASIS)}的规定，采取{cite_ids('税收征收管理法:40')}规定的强制执行措施，"
        "或者申请人民法院强制执行。"
    )
    draft.cite("remedy", REMEDY_BASIS)
    draft.cite("enforcement", (*ENFORCEMENT_BASIS, "税收征收管理法:40"))
    _signature(draft, ctx)
    return draft, headings


_LAYOUT: dict[str, tuple[Role, WD_ALIGN_PARAGRAPH, bool, int]] = {
    # kind: role, alignment, first-line indent, right indent in characters
    "mark": (Role.BODY, WD_ALIGN_PARAGRAPH.LEFT, False, 0),
    "authority": (Role.TITLE, WD_ALIGN_PARAGRAPH.CENTER, False, 0),
    "title": (Role.TITLE, WD_ALIGN_PARAGRAPH.CENTER, False, 0),
    "number": (Role.BODY, WD_ALIGN_PARAGRAPH.CENTER, False, 0),
    "party": (Role.BODY, WD_ALIGN_PARAGRAPH.LEFT, False, 0),
    "body": (Role.BODY, WD_ALIGN_PARAGRAPH.JUSTIFY, True, 0),
    "heading": (Role.HEADING, WD_ALIGN_PARAGRAPH.LEFT, True, 0),
    "sign": (Role.BODY, WD_ALIGN_PARAGRAPH.RIGHT, False, 4),
    "seal": (Role.BODY, WD_ALIGN_PARAGRAPH.RIGHT, False, 4),
    "date": (Role.BODY, WD_ALIGN_PARAGRAPH.RIGHT, False, 4),
}


def to_docx(draft: Draft, *, title: str, author: str) -> bytes:
    doc: DocxDocument = Document()
    setup_page(doc)
    doc.core_properties.title = title
    doc.core_properties.author = author
    for block in draft.blocks:
        if block.kind == "sign":  # GB/T 9704: the signature stands apart from the body
            add_paragraph(doc, "", indent=False)
        role, align, indent, right = _LAYOUT[block.kind]
        add_paragraph(
            doc, block.text, role=role, align=align, indent=indent, right_indent_chars=right
        )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render(doc_type: DocumentType | str, ctx: PenaltyContext) -> RenderedDocument:
    """Draft one penalty document; bad input raises InvalidInput with a stable code."""
    try:
        kind = DocumentType(doc_type)
    except ValueError:
        raise InvalidInput(
            "unknown_document_type",
            f"不支持的文书类型：{doc_type}",
            details={"doc_type": str(doc_type), "allowed": [t.value for t in DocumentType]},
        ) from None
    _validate(ctx)
    draft, sections = _notice(ctx) if kind is DocumentType.PENALTY_NOTICE else _decision(ctx)
    for key, ids in ctx.provenance.items():
        draft.cite(key, tuple(ids))
    title = TITLES[kind]
    data = to_docx(draft, title=title, author=ctx.authority)
    return RenderedDocument(
        doc_type=kind,
        title=title,
        docx=data,
        text=docx_text(data),
        sections=sections,
        provenance=dict(draft.provenance),
    )


def docx_text(data: bytes) -> str:
    """The paragraphs of a .docx, one per line (python-docx), for tests and verification."""
    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InvalidInput("invalid_docx", "无法读取该Word文档（.docx）。") from exc
    return "\n".join(p.text for p in doc.paragraphs)
