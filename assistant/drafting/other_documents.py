"""The other enforcement documents, each in the section order of the official 文书式样.

不予税务行政处罚决定书, 税务行政处罚决定书（简易）(当场), 税务处理决定书,
税务事项通知书（责令限期改正） and 询问笔录 (the 法制审核意见书 is wholly in its type's
module, `assistant/documents/types/legal_review_opinion.py`, built from the helpers here). They
share the page, type and block model of the penalty documents (documents.py) so that the .docx,
PDF and HTML of every type look alike, and each fixed clause names the provisions it rests on
(checked against ../shared/corpora/statutes):

- 行政处罚法第三十三条: no penalty for first minor violations corrected in time (第一款), and
  第三款 the duty to educate the party;
- 行政处罚法第五十一条: on-the-spot decisions only up to 200 yuan (citizens) / 3,000 yuan
  (organisations); 第五十二条 what that decision states and that the officers sign it;
- 税收征收管理法第三十二条: late-payment surcharge of 0.05% a day from the day the tax is in
  arrears (the day after the due date) until it is paid;
- 税收征收管理法第八十八条第一款: in a tax dispute the tax and surcharge are paid or guaranteed
  first, then reconsideration; 第四十条 enforcement;
- 税收征收管理法第五十四条第（四）项: the power to question; 第十二条: recusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from assistant.drafting.context import Finding, LegalBasis, Party
from assistant.drafting.documents import (
    LATE_FINE_BASIS,
    PAYMENT_BASIS,
    SEAL_PLACEHOLDER,
    Draft,
    RenderedDocument,
    cite_ids,
    days_text,
    docx_text,
    finding_sentence,
    to_docx,
)
from assistant.drafting.numerals import chinese_date, figure_date
from assistant.drafting.text import addressed_to_party, to_document_text
from assistant.errors import InvalidInput
from assistant.legal import chinese_number, cite_all
from assistant.money import format_yuan, to_chinese_capitals, to_yuan

NO_PENALTY_BASIS = ("行政处罚法:33:1",)
EDUCATION_BASIS = ("行政处罚法:33:3",)
SIMPLE_BASIS = ("行政处罚法:51", "行政处罚法:52")
# Since 2024-01-01 a penalty decided on the spot is first taken to reconsideration: 行政复议法
# (2023修订) 第二十三条第一款第（一）项 (对当场作出的行政处罚决定不服) and 第二款; a lawsuit
# follows within 15 days of the reconsideration decision (行政诉讼法第四十五条). legal-notes.md:
# texts not in corpora.
SIMPLE_REMEDY_BASIS = ("行政复议法:23:1:1", "行政诉讼法:45")
AFTER_RECONSIDERATION_DAYS = 15
SURCHARGE_BASIS = ("税收征收管理法:32",)
TAX_DISPUTE_BASIS = ("税收征收管理法:88:1",)
TAX_ENFORCEMENT_BASIS = ("税收征收管理法:40",)
INTERVIEW_BASIS = ("税收征收管理法:54:1:4",)  # printed 第五十四条第（四）项: one 款 only
RECUSAL_BASIS = ("税收征收管理法:12",)
# 行政处罚法第五十一条: the most an on-the-spot decision may fine.
SIMPLE_LIMITS = {"individual": Decimal("200"), "organisation": Decimal("3000")}
SURCHARGE_DAILY_RATE = Decimal("0.0005")  # 税收征收管理法第三十二条: 万分之五


class OtherDocumentType(StrEnum):
    NO_PENALTY_DECISION = "no_penalty_decision"
    SIMPLE_PENALTY_DECISION = "simple_penalty_decision"
    TAX_HANDLING_DECISION = "tax_handling_decision"
    CORRECTION_NOTICE = "correction_notice"
    INTERVIEW_RECORD = "interview_record"


TITLES: dict[OtherDocumentType, str] = {
    OtherDocumentType.NO_PENALTY_DECISION: "不予税务行政处罚决定书",
    OtherDocumentType.SIMPLE_PENALTY_DECISION: "税务行政处罚决定书（简易）",
    OtherDocumentType.TAX_HANDLING_DECISION: "税务处理决定书",
    OtherDocumentType.CORRECTION_NOTICE: "税务事项通知书",
    OtherDocumentType.INTERVIEW_RECORD: "询问（调查）笔录",
}


@dataclass(frozen=True)
class Remedy:
    """Who hears a reconsideration and the periods (行政复议法, 行政诉讼法第四十六条)."""

    reconsideration_body: str
    reconsideration_days: int = 60
    lawsuit_months: int = 6


@dataclass(frozen=True)
class NoPenaltyContext:
    authority: str
    doc_number: str
    party: Party
    facts: str
    evidence: tuple[str, ...]
    violated: tuple[LegalBasis, ...]  # the provisions the act broke
    reason: str  # 鉴于…（首次违法、危害后果轻微并已在限期内改正）
    remedy: Remedy
    decision_date: date
    legal_basis: tuple[LegalBasis, ...] = ()  # default: 行政处罚法第三十三条第一款


@dataclass(frozen=True)
class SimplePenaltyContext:
    authority: str
    doc_number: str
    party: Party
    facts: str
    violated: tuple[LegalBasis, ...]
    legal_basis: tuple[LegalBasis, ...]
    amount: Decimal
    place: str
    when: datetime
    officers: tuple[tuple[str, str], ...]  # (name, 执法证号)
    remedy: Remedy
    payment_place: str | None = None
    payment_days: int = 15
    late_fine_rate_percent: Decimal = Decimal("3")
    finding: Finding | None = None  # what the act is in law (定性), from the record


@dataclass(frozen=True)
class TaxItem:
    """One tax owed: 税种, 所属期, amount, and the due date the surcharge runs from."""

    tax_type: str
    period: tuple[date, date]
    amount: Decimal
    due_date: date


@dataclass(frozen=True)
class TaxHandlingContext:
    authority: str
    doc_number: str
    party: Party
    inspection_period: tuple[date, date]
    facts: str
    evidence: tuple[str, ...]
    legal_basis: tuple[LegalBasis, ...]  # provisions the tax is owed under
    items: tuple[TaxItem, ...]
    surcharge_until: date  # surcharge computed to this day (it runs on until payment)
    remedy: Remedy
    decision_date: date
    payment_place: str
    payment_days: int = 15


@dataclass(frozen=True)
class CorrectionNoticeContext:
    authority: str
    doc_number: str
    party: Party
    facts: str
    violated: tuple[LegalBasis, ...]
    legal_basis: tuple[LegalBasis, ...]  # the provision that orders correction (征管法第六十二条…)
    correction: str  # 办理…纳税申报并报送纳税资料
    deadline: date
    remedy: Remedy
    decision_date: date


@dataclass(frozen=True)
class Utterance:
    speaker: str  # "问" or "答"
    text: str
    segment_id: str | None = None  # transcript provenance


@dataclass(frozen=True)
class InterviewContext:
    """What a 询问（调查）笔录 prints. One layout for both of its uses: the registered document
    type (every field given, checked) and the draft made from a recording's transcript
    (`draft=True`), where the system may not know a field: it is printed as a blank to fill in,
    a time may be text marked 【待核：…】, and the recognition check points come first."""

    authority: str
    start: datetime | str  # text: as the recording's header gives it
    end: datetime | str
    place: str
    interviewers: tuple[tuple[str, str], ...]  # (name, 执法证号; "" when unknown in a draft)
    recorder: str
    interviewee: str
    interviewee_id: str
    interviewee_role: str  # 工作单位及职务: "示例商贸有限公司 法定代表人"
    utterances: tuple[Utterance, ...]  # speaker 问 / 答 (a draft: 〔未标注〕 where unknown)
    extra: tuple[tuple[str, str], ...] = ()  # further header lines: (label, text)
    check_points: tuple[str, ...] = ()  # what to check against the recording before reading
    draft: bool = False


def require_fields(**values: object) -> None:
    """Party and document data are required; say which field is empty (422, not a bad draft)."""
    empty = [name for name, value in values.items() if not str(value or "").strip()]
    if empty:
        raise InvalidInput(
            "missing_document_data",
            "文书信息不完整：缺少" + "、".join(empty) + "。",
            details={"fields": empty},
        )


def check_party(party: Party) -> None:
    """A document addressed to the party names it and its identifier (422 otherwise)."""
    require_fields(**{"party.name": party.name, "party.id_number": party.id_number})


def _you(party: Party) -> str:
    return "你单位" if party.kind == "organisation" else "你"


def _header(draft: Draft, authority: str, title: str, number: str, party: Party) -> None:
    draft.add(authority, "authority")
    draft.add(title, "title")
    draft.add(number, "number")
    draft.add(f"{party.name}（{party.id_label}：{party.id_number}）：", "party")


def _lines(draft: Draft, text: str) -> None:
    for line in to_document_text(text).splitlines():
        if line.strip():
            draft.add(line)


def _evidence(draft: Draft, evidence: Sequence[str]) -> None:
    items = [to_document_text(e).replace("\n", "").rstrip("；;。") for e in evidence if e.strip()]
    if items:
        draft.add("上述违法事实，主要有以下证据证明：")
        for i, item in enumerate(items, start=1):
            draft.add(f"{i}.{item}{'。' if i == len(items) else '；'}")


def _remedy_sentence(you: str, remedy: Remedy, doc: str) -> str:
    return (
        f"{you}如对本{doc}不服，可以自收到本{doc}之日起{days_text(remedy.reconsideration_days)}内"
        f"依法向{remedy.reconsideration_body}申请行政复议，或者自收到本{doc}之日起"
        f"{chinese_number(remedy.lawsuit_months)}个月内依法向人民法院起诉。"
    )


def sign(draft: Draft, authority: str, day: date) -> None:
    """The authority, the seal placeholder and the date in Chinese numerals."""
    draft.add(authority, "sign")
    draft.add(SEAL_PLACEHOLDER, "seal")
    draft.add(chinese_date(day), "date")


def finish(
    doc_type: str, title: str, draft: Draft, sections: tuple[str, ...], author: str
) -> RenderedDocument:
    """The draft as a .docx on the shared page, with its text, sections and provenance."""
    data = to_docx(draft, title=title, author=author)
    return RenderedDocument(
        doc_type=doc_type,
        title=title,
        docx=data,
        text=docx_text(data),
        sections=sections,
        provenance=dict(draft.provenance),
    )


# -- 不予税务行政处罚决定书 ----------
def render_no_penalty(ctx: NoPenaltyContext) -> RenderedDocument:
    """Facts, the provisions broken, why no penalty (行政处罚法第三十三条), education, remedies."""
    check_party(ctx.party)
    require_fields(
        authority=ctx.authority, doc_number=ctx.doc_number, facts=ctx.facts, reason=ctx.reason
    )
    if not ctx.violated:
        raise InvalidInput("missing_legal_basis", "缺少违法行为所违反的规定。", details={})
    kind = OtherDocumentType.NO_PENALTY_DECISION
    draft, you = Draft(), _you(ctx.party)
    _header(draft, ctx.authority, TITLES[kind], ctx.doc_number, ctx.party)
    address = f"（地址：{ctx.party.address}）" if ctx.party.address else ""
    draft.add(f"经我局对{you}{address}的涉税情况进行调查，{you}存在违法事实及不予处罚决定如下：")
    sections = ("一、违法事实及证据", "二、不予处罚的理由及依据")
    draft.add(sections[0], "heading")
    _lines(draft, addressed_to_party(ctx.facts, ctx.party.name, you))
    _evidence(draft, ctx.evidence)
    draft.add(sections[1], "heading")
    basis = ctx.legal_basis or tuple(_law(s) for s in NO_PENALTY_BASIS)
    draft.add(
        f"{you}的上述行为属于{cite_all(ctx.violated)}规定的违法行为。"
        f"{to_document_text(ctx.reason).rstrip('。，,')}，根据{cite_all(basis)}的规定，"
        f"决定不予税务行政处罚。"
    )
    draft.cite("legal_basis", tuple(b.statute_id for b in (*ctx.violated, *basis)))
    draft.add(f"请{you}依法履行纳税义务，今后严格遵守税收法律、法规的规定。")
    draft.cite("education", EDUCATION_BASIS)
    draft.add(_remedy_sentence(you, ctx.remedy, "决定书"))
    draft.cite("remedy", ("行政诉讼法:46",))
    sign(draft, ctx.authority, ctx.decision_date)
    return finish(kind, TITLES[kind], draft, sections, ctx.authority)


def _law(statute_id: str) -> LegalBasis:
    return LegalBasis(statute_id, "中华人民共和国" + statute_id.split(":", 1)[0])


# -- 税务行政处罚决定书（简易） ----------
def render_simple_penalty(ctx: SimplePenaltyContext) -> RenderedDocument:
    """On the spot (行政处罚法第五十一条、第五十二条): only within the limits, officers sign."""
    check_party(ctx.party)
    require_fields(
        authority=ctx.authority, doc_number=ctx.doc_number, facts=ctx.facts, place=ctx.place
    )
    if not ctx.officers or len(ctx.officers) < 2:
        raise InvalidInput(
            "missing_officers",
            "当场处罚须有两名以上执法人员署名。",
            details={"fields": ["officers"]},
        )
    amount = to_yuan(ctx.amount)
    limit = SIMPLE_LIMITS[ctx.party.kind]
    if not 0 < amount <= limit:
        raise InvalidInput(
            "simple_procedure_not_allowed",
            f"当场处罚的罚款应大于零且不超过{format_yuan(limit)}（行政处罚法第五十一条），"
            "请适用一般程序。",
            details={"amount": str(amount), "limit": str(limit), "kind": ctx.party.kind},
        )
    kind = OtherDocumentType.SIMPLE_PENALTY_DECISION
    draft, you = Draft(), _you(ctx.party)
    _header(draft, ctx.authority, TITLES[kind], ctx.doc_number, ctx.party)
    sections = ("违法事实", "处罚依据及内容", "缴纳方式", "救济途径", "执法人员", "当事人签收")
    when = f"{figure_date(ctx.when.date())}{ctx.when.hour}时{ctx.when.minute:02d}分"
    facts = addressed_to_party(ctx.facts, ctx.party.name, you).replace("\n", "")
    facts = facts.removeprefix("经查，").rstrip("。")
    draft.add(f"违法事实：{when}，执法人员在{ctx.place}当场查明，{facts}。")
    violated = ""
    if ctx.finding is not None:
        violated = finding_sentence(ctx.finding, you)
    elif ctx.violated:
        violated = f"{you}的上述行为违反了{cite_all(ctx.violated)}的规定。"
    draft.add(
        f"处罚依据及内容：{violated}"
        f"根据{cite_all(ctx.legal_basis)}和{cite_ids(*SIMPLE_BASIS)}的规定，"
        f"当场决定对{you}处以罚款{format_yuan(amount)}（大写：{to_chinese_capitals(amount)}）。"
    )
    draft.cite("legal_basis", tuple(b.statute_id for b in (*ctx.violated, *ctx.legal_basis)))
    draft.cite("simple", SIMPLE_BASIS)
    where = ctx.payment_place or "指定的银行或者通过电子支付系统"
    draft.add(
        f"缴纳方式：限{you}自收到本决定书之日起{days_text(ctx.payment_days)}内到{where}缴纳罚款。"
        f"到期不缴纳的，每日按罚款数额的百分之{chinese_number(int(ctx.late_fine_rate_percent))}"
        "加处罚款，加处罚款的数额不得超出罚款的数额。"
    )
    draft.cite("payment", (*PAYMENT_BASIS, *LATE_FINE_BASIS))
    draft.add(
        f"救济途径：{you}如对本决定书不服，应当自收到本决定书之日起"
        f"{days_text(ctx.remedy.reconsideration_days)}内依法向{ctx.remedy.reconsideration_body}"
        f"申请行政复议（{cite_ids(*SIMPLE_REMEDY_BASIS[:1])}），对行政复议决定不服的，可以自收到"
        f"行政复议决定书之日起{days_text(AFTER_RECONSIDERATION_DAYS)}内向人民法院提起诉讼。"
    )
    draft.cite("remedy", SIMPLE_REMEDY_BASIS)
    names = "、".join(f"{n}（执法证号：{c}）" for n, c in ctx.officers)
    draft.add(f"执法人员：{names}")
    draft.add("当事人签收：                  年    月    日")
    draft.add(ctx.authority, "sign")
    draft.add(SEAL_PLACEHOLDER, "seal")
    draft.add(chinese_date(ctx.when.date()), "date")
    return finish(kind, TITLES[kind], draft, sections, ctx.authority)


# -- 税务处理决定书 ----------
def surcharge(item: TaxItem, until: date) -> Decimal:
    """0.05% a day from the day after the due date to `until` inclusive (征管法第三十二条)."""
    days = max(0, (until - item.due_date).days)
    return to_yuan(to_yuan(item.amount) * SURCHARGE_DAILY_RATE * days)


def render_tax_handling(ctx: TaxHandlingContext) -> RenderedDocument:
    """Tax owed per item, the surcharge, 15 days to pay, pay-or-guarantee-first remedy."""
    check_party(ctx.party)
    require_fields(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        facts=ctx.facts,
        payment_place=ctx.payment_place,
    )
    if not ctx.items or any(to_yuan(i.amount) <= 0 for i in ctx.items):
        raise InvalidInput("invalid_amount", "应补缴税款须逐项列明且大于零。", details={})
    kind = OtherDocumentType.TAX_HANDLING_DECISION
    draft, you = Draft(), _you(ctx.party)
    _header(draft, ctx.authority, TITLES[kind], ctx.doc_number, ctx.party)
    start, end = ctx.inspection_period
    address = f"（地址：{ctx.party.address}）" if ctx.party.address else ""
    draft.add(
        f"我局于{figure_date(start)}至{figure_date(end)}对{you}{address}的涉税情况进行了检查，"
        "违法事实及处理决定如下："
    )
    sections = ("一、违法事实", "二、处理决定及依据")
    draft.add(sections[0], "heading")
    _lines(draft, addressed_to_party(ctx.facts, ctx.party.name, you))
    _evidence(draft, ctx.evidence)
    draft.add(sections[1], "heading")
    total_tax = Decimal("0")
    total_surcharge = Decimal("0")
    lines = []
    for n, item in enumerate(ctx.items, start=1):
        amount = to_yuan(item.amount)
        extra = surcharge(item, ctx.surcharge_until)
        total_tax += amount
        total_surcharge += extra
        lines.append(
            f"（{chinese_number(n)}）追缴{you}{figure_date(item.period[0])}至{figure_date(item.period[1])}"
            f"{item.tax_type}{format_yuan(amount)}，并从{figure_date(item.due_date)}的次日起"
            f"按日加收滞纳税款万分之五的滞纳金（截至{figure_date(ctx.surcharge_until)}为"
            f"{format_yuan(extra)}）。"
        )
    draft.add(f"根据{cite_all(ctx.legal_basis)}和{cite_ids(*SURCHARGE_BASIS)}的规定，决定如下：")
    for line in lines:
        draft.add(line)
    draft.cite("legal_basis", tuple(b.statute_id for b in ctx.legal_basis))
    draft.cite("surcharge", SURCHARGE_BASIS)
    draft.add(
        f"以上应补缴税款共计{format_yuan(total_tax)}，截至{figure_date(ctx.surcharge_until)}的滞纳金"
        f"共计{format_yuan(to_yuan(total_surcharge))}，滞纳金计算至税款缴纳入库之日止。"
        f"限{you}自收到本决定书之日起{days_text(ctx.payment_days)}内到{ctx.payment_place}缴纳入库。"
        f"逾期未缴清的，我局将依照{cite_ids(*TAX_ENFORCEMENT_BASIS)}的规定强制执行。"
    )
    draft.cite("enforcement", TAX_ENFORCEMENT_BASIS)
    draft.add(
        f"{you}若同我局在纳税上有争议，必须先依照本决定的期限缴纳税款及滞纳金或者提供相应的担保，"
        f"然后可自上述款项缴清或者提供相应担保被税务机关确认之日起"
        f"{days_text(ctx.remedy.reconsideration_days)}内依法向{ctx.remedy.reconsideration_body}"
        f"申请行政复议（{cite_ids(*TAX_DISPUTE_BASIS)}）。"
    )
    draft.cite("remedy", TAX_DISPUTE_BASIS)
    sign(draft, ctx.authority, ctx.decision_date)
    return finish(kind, TITLES[kind], draft, sections, ctx.authority)


# -- 税务事项通知书（责令限期改正） ----------
def render_correction_notice(ctx: CorrectionNoticeContext) -> RenderedDocument:
    """事由, 依据, 通知内容 with the correction and its deadline, remedies."""
    check_party(ctx.party)
    require_fields(
        authority=ctx.authority,
        doc_number=ctx.doc_number,
        facts=ctx.facts,
        correction=ctx.correction,
    )
    if ctx.deadline <= ctx.decision_date:
        raise InvalidInput(
            "invalid_period",
            "改正期限应晚于通知日期。",
            details={"deadline": ctx.deadline.isoformat()},
        )
    kind = OtherDocumentType.CORRECTION_NOTICE
    draft, you = Draft(), _you(ctx.party)
    _header(draft, ctx.authority, TITLES[kind], ctx.doc_number, ctx.party)
    sections = ("事由", "依据", "通知内容")
    draft.add("事由：责令限期改正")
    draft.add(f"依据：{cite_all(ctx.legal_basis)}")
    draft.add(
        f"通知内容：{to_document_text(ctx.facts).rstrip('。')}，违反了"
        f"{cite_all(ctx.violated)}的规定。现责令{you}于{figure_date(ctx.deadline)}前"
        f"{to_document_text(ctx.correction).rstrip('。')}。逾期不改正的，我局将依法处理。"
    )
    draft.cite("legal_basis", tuple(b.statute_id for b in (*ctx.violated, *ctx.legal_basis)))
    draft.add(_remedy_sentence(you, ctx.remedy, "通知"))
    sign(draft, ctx.authority, ctx.decision_date)
    return finish(kind, TITLES[kind], draft, sections, ctx.authority)


# -- 询问（调查）笔录 ----------
DRAFT_MARK = "（草稿，须经承办人核对）"
BLANK = "________"  # a field of a draft the officer fills in


def _stamp(moment: datetime | str) -> str:
    if isinstance(moment, datetime):
        return f"{figure_date(moment.date())}{moment.hour}时{moment.minute:02d}分"
    return moment.strip() or BLANK


def render_interview(ctx: InterviewContext) -> RenderedDocument:
    """Time, place, people, the notice of identity and rights, 问/答, the interviewee's check.

    The one 笔录 layout: the registered type renders through it, and so do the transcript's
    record exports (`cases.transcripts`), as a draft."""
    if not ctx.draft:
        require_fields(
            authority=ctx.authority,
            place=ctx.place,
            interviewee=ctx.interviewee,
            interviewee_id=ctx.interviewee_id,
            recorder=ctx.recorder,
        )
        start, end = ctx.start, ctx.end
        backwards = isinstance(start, datetime) and isinstance(end, datetime) and end <= start
        if len(ctx.interviewers) < 2 or backwards:
            raise InvalidInput(
                "invalid_interview",
                "询问须有两名以上执法人员，且结束时间晚于开始时间。",
                details={"interviewers": len(ctx.interviewers)},
            )
    kind = OtherDocumentType.INTERVIEW_RECORD
    draft = Draft()
    draft.add(ctx.authority or BLANK, "authority")
    draft.add(TITLES[kind] + (DRAFT_MARK if ctx.draft else ""), "title")
    for line in ctx.check_points:
        draft.add(line)
    sections = (
        "询问时间",
        "询问地点",
        "询问人",
        "记录人",
        "被询问人",
        "告知",
        "询问内容",
        "被询问人核对",
    )

    def text(value: str) -> str:
        return value.strip() or BLANK

    draft.add(f"询问时间：{_stamp(ctx.start)}至{_stamp(ctx.end)}", "party")
    draft.add(f"询问地点：{text(ctx.place)}", "party")
    names = [f"{n}（执法证号：{c}）" if c else n for n, c in ctx.interviewers]
    names += [BLANK] * max(0, 2 - len(names))  # two officers question (a draft may know one)
    draft.add(f"询问人：{'、'.join(names)}", "party")
    draft.add(f"记录人：{text(ctx.recorder)}", "party")
    draft.add(
        f"被询问人：{text(ctx.interviewee)}（身份证件号码：{text(ctx.interviewee_id)}），"
        f"{text(ctx.interviewee_role)}",
        "party",
    )
    for label, value in ctx.extra:
        draft.add(f"{label}：{text(value)}", "party")
    draft.add(
        f"告知：我们是{ctx.authority or BLANK}的执法人员，已向你出示执法证件。根据"
        "《中华人民共和国税收征收管理法》第五十四条第（四）项的规定，现依法向你询问有关情况，"
        "请如实回答。"
        f"根据{cite_ids(*RECUSAL_BASIS)}的规定，执法人员与案件有利害关系的，你有权申请回避。"
        "你是否申请回避？"
    )
    draft.cite("notice", (*INTERVIEW_BASIS, *RECUSAL_BASIS))
    segments: list[str] = []
    for u in ctx.utterances:
        label = next((r for r in ("问", "答") if u.speaker.startswith(r)), u.speaker)
        draft.add(f"{label}：{to_document_text(u.text).replace(chr(10), '')}")
        if u.segment_id:
            segments.append(u.segment_id)
    draft.cite("utterances", tuple(segments))
    draft.add("以上笔录我已看过（已向我宣读过），与我所说的一致。")
    draft.add("被询问人（签名）：            年    月    日", "party")
    draft.add("询问人（签名）：              记录人（签名）：", "party")
    return finish(kind, TITLES[kind], draft, sections, ctx.authority)
