"""Masking natural persons' personal data before anything is published.

Why rules, not a model: what must be masked is a closed list of identifiers with structure —
公民身份号码 (ISO 7064 MOD 11-2 check character and a real birth date), mobile and fixed
phone numbers, bank card numbers (Luhn) and accounts after their label, home addresses below
the county level — plus names of natural persons, found from the case record (the names it
holds) and from the words that introduce a person in Chinese enforcement text (法定代表人、
股东、员工, 身份证号 after the name, ，男， …). The rules and their legal sources are in
`corpora/publicity/rules.yaml`; the officer reviews every masked item before publishing.
Organisations (name, 统一社会信用代码) are never masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from assistant.nlp.rules import SURNAMES
from assistant.nlp.uscc import validate_resident_id

Kind = Literal["id_number", "phone", "bank_account", "address", "person_name"]
IDENTIFIER_KINDS: frozenset[str] = frozenset({"id_number", "phone", "bank_account"})
# How the officer's review names each kind of masked span (the workbench's 公示 review).
KIND_NAMES: dict[str, str] = {
    "id_number": "身份证件号码",
    "phone": "电话号码",
    "bank_account": "银行账号",
    "address": "住址",
    "person_name": "自然人姓名",
}
MASK = "＊"

_SURNAME_RE = "|".join(sorted(SURNAMES, key=len, reverse=True))
_CJK = "\u4e00-\u9fff"

# 18-digit numbers (last may be X) and the old 15-digit ones, not inside a longer code
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# mobile: 1[3-9]x xxxx xxxx with optional +86 and separators; fixed: 0 + area code + number
_MOBILE = re.compile(r"(?<![\d.])(?:(?:\+|＋)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![\d.])")
_FIXED = re.compile(r"(?<![\d.])(?:[(（]0\d{2,3}[)）]|0\d{2,3}[\s—-]?)[2-9]\d{6,7}(?![\d.])")
# runs of digit groups (spaces or dashes between): a bank card is 16–19 digits of one or more
# whole groups inside such a run, passing Luhn
_DIGIT_RUN = re.compile(r"(?<![\dA-Za-z.])\d+(?:[ \t-]\d+)*(?![\dA-Za-z.])")
_GROUP = re.compile(r"\d+")
# any account number written after its label (public accounts fail Luhn)
_ACCOUNT_LABEL = re.compile(
    r"(?:银行账号|银行帐号|银行账户|银行卡号?|卡号|账号|帐号|账户|帐户)[:：为是\s]*"
)
_ACCOUNT_RUN = re.compile(r"\d[\d\s-]{8,32}\d(?![\d.])")
# addresses: (province) (city) county-level unit, then street, village or community with a
# house number; the part after the county level is masked
_ADMIN = (
    rf"(?:[{_CJK}]{{2,8}}?(?:省|自治区))?(?:[{_CJK}]{{2,8}}?(?:市|自治州|地区|盟))?"
    rf"[{_CJK}]{{1,8}}?(?:区|县|旗|市)"
)
_DETAIL = (
    rf"[{_CJK}\dA-Za-z]{{1,20}}?(?:路|街|大街|大道|巷|胡同|道|村|社区|小区|镇|乡|苑|园|里)"
    r"[\w\-－#—、]{0,30}?(?:号院|号楼|号|栋|幢|单元|室|组|户)(?:[\w\-－#]{0,20}(?:号|栋|幢|单元|室|楼|层|户))*"
)
_ADDRESS = re.compile(rf"(?P<admin>{_ADMIN})(?P<detail>{_DETAIL})")
_ADDRESS_LABEL = re.compile(
    r"(?:住址|住所|家住|现住|居住于|居住在|户籍地|户籍所在地|经常居住地|地址)[:：为是在\s]*"
)
# words that introduce a natural person; the name follows
_PERSON_ROLE = re.compile(
    r"(?:法定代表人|法人代表|负责人|经营者|实际控制人|实际经营人|业主|股东|会计|出纳|财务人员|"
    r"财务负责人|员工|职工|业务员|销售员|司机|收款人|付款人|开票人|受票人|姓名|自然人|个人|"
    r"纳税人|当事人|证人|犯罪嫌疑人|被告人|被检查人|投资人|亲属|配偶|妻子|丈夫|之子|之女|儿子|"
    r"女儿|父亲|母亲|朋友|雇员|主播|网红|演员|代账人员|中间人|介绍人)"
    r"[\s:：为是系即]*"
)
_NAME = rf"(?:{_SURNAME_RE})[{_CJK}]{{1,2}}"
# a name right before 身份证 / ，男， / （男 / 出生: the context names it a person
_NAME_BEFORE = re.compile(
    rf"(?P<name>{_NAME})(?=[\s,，(（]*(?:身份证|公民身份|居民身份|男|女|[12]\d{{3}}年\d{{1,2}}月\d{{1,2}}日出生|住)|(?:通过其|利用其|使用其|以其|名下|个人银行|个人账户|本人|控制的|实际控制))"
)
# characters that end a name (punctuation, particles, verbs that follow a subject)
_NAME_END = frozenset(
    "，。、；：:;,.（()）“”\"' \n\t"
    "于在将的对与和及为是因等已未向从把被以个称系均涉通利控名经先后自又也都并曾"
)
# characters a name may follow directly inside a sentence (由王某控制, 对王某追缴, 向王某…)
_NAME_CUE = frozenset("由对向与和及给是为将把被让经据")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_NOT_GIVEN = frozenset("某之分三期税公司局所部门厂店县市区省")
# words that begin with a surname character but are not names (财务人员解释称…)
_NOT_NAMES = frozenset(
    {
        "解释",
        "表示",
        "承认",
        "同意",
        "确认",
        "负责",
        "申报",
        "经营",
        "管理",
        "安排",
        "于是",
        "金额",
        "向其",
        "和其",
        "称其",
        "经查",
        "经营者",
        "通过",
        "利用",
        "使用",
        "开具",
        "虚开",
        "取得",
        "隐匿",
        "少缴",
        "补缴",
        "缴纳",
        "提供",
        "存在",
        "成立",
        "应当",
        "按照",
        "依法",
        "付款",
        "迟迟",
        "收款",
        "工作",
        "任职",
        "丁某",
    }
)


@dataclass(frozen=True)
class Finding:
    """One masked span: where, what kind, and what replaced it."""

    kind: str
    start: int
    end: int
    text: str
    replacement: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Redacted:
    text: str
    findings: tuple[Finding, ...]


def luhn_ok(digits: str) -> bool:
    """Bank card check digit (ISO/IEC 7812, Luhn)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _overlapping(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every match, also those starting inside an earlier one (向陈佳（身份证… → 陈佳)."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = m.start() + 1


def _card_spans(text: str) -> list[tuple[int, int]]:
    """Spans of whole digit groups holding 16–19 digits that pass Luhn, longest first, so a
    card written next to other figures (卡号6222… 2024年) is still found."""
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        if "发票" in text[max(0, run.start() - 15) : run.start()]:
            continue  # invoice codes and number ranges (发票号码07647407-07647456)
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, run.start(), run.end())]
        taken_until = -1
        for i, (first, _) in enumerate(groups):
            if first < taken_until:
                continue
            for j in range(len(groups) - 1, i - 1, -1):
                last = groups[j][1]
                digits = re.sub(r"\D", "", text[first:last])
                if 16 <= len(digits) <= 19 and luhn_ok(digits):
                    spans.append((first, last))
                    taken_until = last
                    break
    return spans


def _old_id_ok(number: str) -> bool:
    """A 15-digit 身份证号 (pre-1999): region code and a real 19YYMMDD birth date."""
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return number[0] != "0"


def _mask_id(token: str) -> str:
    if len(token) == 18:
        return token[:6] + MASK * 8 + token[14:]
    return token[:6] + MASK * 6 + token[12:]


def _mask_phone(token: str) -> str:
    digits = [i for i, ch in enumerate(token) if ch.isdigit()]
    if token.lstrip("+＋(（").startswith("0") or token.startswith(("(", "（")):
        # fixed line: keep the area code, mask the subscriber number
        area = token.lstrip("(（")
        keep = 3 if area.startswith(("01", "02")) else 4  # 010, 02x: three-digit area codes
        cut = digits[min(keep, len(digits) - 1)] if len(digits) > keep else 0
        head = token[:cut]
        return head + re.sub(r"\d", MASK, token[cut:])
    hidden = set(digits[-8:-4])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(token))


def _mask_account(token: str) -> str:
    digits = [i for i, ch in enumerate(token) if ch.isdigit()]
    keep = set(digits[-4:])
    return "".join(ch if (not ch.isdigit() or i in keep) else MASK for i, ch in enumerate(token))


def _mask_name(name: str) -> str:
    for surname in sorted(SURNAMES, key=len, reverse=True):
        if name.startswith(surname):
            return surname + "某"
    return name[:1] + "某"


def _name_length(text: str, start: int) -> int | None:
    """Length of the name starting at `start` (surname + 1–2 characters) ending at a boundary."""
    surname = next(
        (s for s in sorted(SURNAMES, key=len, reverse=True) if text.startswith(s, start)), None
    )
    if surname is None:
        return None
    base = start + len(surname)
    for given in (2, 1):
        end = base + given
        if end > len(text):
            continue
        part = text[base:end]
        if not all("\u4e00" <= ch <= "\u9fff" for ch in part) or set(part) & _NOT_GIVEN:
            continue
        if text[start:end] in _NOT_NAMES or text[start : start + 2] in _NOT_NAMES:
            continue
        if end == len(text) or text[end] in _NAME_END:
            return end - start
    return None


class Redactor:
    """Finds and masks personal data; `persons` are names the case record holds (the party when
    a natural person, persons named in the facts), masked wherever they appear."""

    def __init__(self, persons: Iterable[str] = (), *, keep: Iterable[str] = ()) -> None:
        self.persons = sorted({p.strip() for p in persons if len(p.strip()) >= 2}, key=len)[::-1]
        self.keep = tuple(k for k in keep if k)

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= s or start >= e for s, e in taken)

        def add(kind: str, start: int, end: int, replacement: str, rule: str) -> None:
            if start >= end or not free(start, end):
                return
            token = text[start:end]
            if any(token in k for k in self.keep):
                return
            taken.append((start, end))
            found.append(Finding(kind, start, end, token, replacement, rule))

        for m in _ID.finditer(text):
            token = m.group(1)
            if len(token) == 18 and validate_resident_id(token.upper()):
                add("id_number", m.start(1), m.end(1), _mask_id(token), "id_check_digit")
            elif len(token) == 15 and _old_id_ok(token):
                add("id_number", m.start(1), m.end(1), _mask_id(token), "id_15_digit")
        for m in _ACCOUNT_LABEL.finditer(text):
            run = _ACCOUNT_RUN.match(text, m.end())
            if run is not None:
                add("bank_account", run.start(), run.end(), _mask_account(run.group()), "label")
        for start, end in _card_spans(text):
            token = text[start:end]
            add("bank_account", start, end, _mask_account(token), "luhn")
        for m in _MOBILE.finditer(text):
            add("phone", m.start(), m.end(), _mask_phone(m.group()), "mobile")
        for m in _FIXED.finditer(text):
            add("phone", m.start(), m.end(), _mask_phone(m.group()), "fixed_line")
        for m in _ADDRESS.finditer(text):
            start = m.start("detail")
            add("address", start, m.end(), MASK * 3, "address")
        for m in _ADDRESS_LABEL.finditer(text):
            tail = re.match(r"[^，。；;,\n（()）]{4,60}", text[m.end() :])
            if tail is not None and re.search(r"\d|号|室|村|组", tail.group()):
                add("address", m.end(), m.end() + tail.end(), MASK * 3, "address_label")
        for person in self.persons:
            for m in re.finditer(re.escape(person), text):
                add("person_name", m.start(), m.end(), _mask_name(person), "case_record")
        for m in _PERSON_ROLE.finditer(text):
            length = _name_length(text, m.end())
            if length is not None:
                name = text[m.end() : m.end() + length]
                add("person_name", m.end(), m.end() + length, _mask_name(name), "role_word")
        for m in _overlapping(_NAME_BEFORE, text):
            before = text[m.start() - 1] if m.start() else ""
            if _CJK_CHAR.match(before) and before not in _NAME_CUE:
                continue  # inside a word (该公司通过…, 个体工商户名下…)
            name = m.group("name")
            length = _name_length(text, m.start("name"))
            if length is not None and length <= len(name):
                end = m.start("name") + length
                add(
                    "person_name",
                    m.start("name"),
                    end,
                    _mask_name(text[m.start() : end]),
                    "context",
                )
        # a name found once is masked everywhere in the text
        for name in {f.text for f in found if f.kind == "person_name"}:
            for m in re.finditer(re.escape(name), text):
                add("person_name", m.start(), m.end(), _mask_name(name), "repeat")
        return sorted(found, key=lambda f: f.start)

    def redact(self, text: str) -> Redacted:
        findings = self.find(text)
        out, pos = [], 0
        for f in findings:
            out.append(text[pos : f.start])
            out.append(f.replacement)
            pos = f.end
        out.append(text[pos:])
        return Redacted("".join(out), tuple(findings))


def redact_fields(
    fields: dict[str, str], redactor: Redactor
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Redact every text field; the findings carry the field they were found in."""
    out: dict[str, str] = {}
    findings: list[dict[str, Any]] = []
    for key, value in fields.items():
        result = redactor.redact(value)
        out[key] = result.text
        findings.extend({"field": key, **f.to_dict()} for f in result.findings)
    return out, findings


def leaks(text: str, identifiers: Sequence[str]) -> list[str]:
    """The identifiers that still appear in `text` (spaces and dashes ignored)."""
    flat = re.sub(r"[\s-]", "", text)
    return [i for i in identifiers if re.sub(r"[\s-]", "", i) in flat]
