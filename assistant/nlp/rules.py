"""Rule finders for the spaCy pipeline: identifiers, invoices, amounts, dates, periods, taxes,
statute citations, and parties by pattern.

What the fact guard and drafting must quote exactly (codes with check digits, amounts, dates,
invoice numbers) is found with deterministic patterns over the characters, not over tokens: jieba
splits 1,234,567.89元 into five tokens and may glue 增值税专用发票 into one, so token patterns
would depend on the segmenter. Each finder yields `Candidate`s with exact values; numerals and
statute citations are read by the legal core.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import NamedTuple

from assistant.legal import CN_DIGITS, NUMERAL_CHARS, parse_integer
from assistant.legal.citations import parse_citations
from assistant.nlp.numerals import parse_amount
from assistant.nlp.uscc import (
    USCC_REGISTRATION_DEPTS,
    resident_id_problem,
    uscc_problem,
    validate_resident_id,
    validate_uscc,
)


class Candidate(NamedTuple):
    """A mention proposed by one finder: kind, half-open character offsets, normalized value."""

    kind: str
    start: int
    end: int
    value: str
    valid: bool = True
    note: str | None = None


# --- text normalization ------------------------------------------------------------------------
# Full-width digits and letters map one-to-one onto ASCII, so offsets stay valid for the original.
_FULLWIDTH = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)
_WS = r"[ \t\u3000]"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _words(spaced: str) -> frozenset[str]:
    """Word lists are kept as one spaced string: easier to read and review than a list."""
    return frozenset(spaced.split())


# --- amounts -----------------------------------------------------------------------------------
_NUM_START = "0-9" + "".join(CN_DIGITS) + "十拾"
_NUM_BODY = "0-9,." + NUMERAL_CHARS
_CN_DIGIT_CLASS = "一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
_AMOUNT = re.compile(
    rf"(?P<prefix>(?:人民币|RMB|CNY){_WS}*(?:[（(]大写[)）]{_WS}*)?)?(?P<sym>[￥¥]{_WS}*)?"
    # 数十万元 / 几百万元 are not amounts; 10余万元 fails because 万 cannot start a number
    rf"(?<![{_NUM_BODY}数几])"
    rf"(?P<num>[{_NUM_START}][{_NUM_BODY}]*(?:{_WS}+[万亿萬億千]{{1,2}})?)"
    rf"{_WS}*[元圆]"
    rf"(?P<tail>(?:[零〇]?[{_CN_DIGIT_CLASS}]角)?(?:[零〇]?[{_CN_DIGIT_CLASS}]分)?整?)"
    r"(?!化)"
)
_SYMBOL_AMOUNT = re.compile(r"[￥¥][ \t]*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d)")

# --- dates -------------------------------------------------------------------------------------
_CN_YEAR = "〇零○一二三四五六七八九"
_CN_MD = "一二三四五六七八九十"
_LWS = r"[ \t\u3000\n]"
_DATE_PATTERNS = (
    re.compile(
        # PDF text breaks lines inside dates (2011 年 1 月\n8 日)
        rf"(?<!\d)(?P<y>\d{{4}}){_LWS}*年{_LWS}*(?P<m>\d{{1,2}}){_LWS}*月{_LWS}*(?P<d>\d{{1,2}}){_LWS}*[日号]"
    ),
    re.compile(
        r"(?<![\d.\-/])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d|\.\d)"
    ),
    re.compile(
        rf"(?<![{_CN_YEAR}])(?P<y>[{_CN_YEAR}]{{4}}){_WS}*年{_WS}*(?P<m>[{_CN_MD}]{{1,2}}){_WS}*月"
        rf"{_WS}*(?P<d>[{_CN_MD}]{{1,3}}){_WS}*[日号]"
    ),
)
_MONTH_DAY = re.compile(
    rf"(?<![\d年{_CN_MD}])(?P<m>\d{{1,2}}|[{_CN_MD}]{{1,2}}){_WS}*月{_WS}*"
    rf"(?P<d>\d{{1,2}}|[{_CN_MD}]{{1,3}}){_WS}*[日号]"
)

# --- invoices ----------------------------------------------------------------------------------
_INVOICE_KEY = re.compile(r"(?:全电发票|数电发票|数电票|全电票|发票)(?P<what>号码|号|代码)")
_INVOICE_FILL = re.compile(r"[ \t\u3000:：为是分别依次（）()“”\"']*")
_INVOICE_SEP = re.compile(r"[ \t\u3000]*[、，,;；和及与至到~\-—][ \t\u3000]*(?=\d)")
_DIGITS = re.compile(r"\d+")
_TWENTY_DIGITS = re.compile(r"(?<!\d)\d{20}(?!\d)")

# --- identifiers -------------------------------------------------------------------------------
_ID_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
_ID_CONTEXT = re.compile(
    r"(?P<rid>身份证|身份号码|证件号)|(?P<uscc>信用代码|识别号|税号|注册号)"
    r"|(?P<other>账号|帐号|账户|帐户|卡号|单号|订单|编号|流水号)"
)
_USCC_KEY = re.compile(r"(?:统一社会信用代码|社会信用代码|信用代码)[ \t\u3000:：为是（）()]*")
_RID_KEY = re.compile(r"(?:公民身份号码|身份证号码|身份证号|身份证)[ \t\u3000:：为是（）()]*")
_ALNUM_RUN = re.compile(r"[0-9A-Za-z]+")

# --- tax types ---------------------------------------------------------------------------------
# The 18 taxes levied in the PRC plus the two education surcharges; key: surface, value: name.
TAX_TYPES: dict[str, str] = {
    "增值税": "增值税",
    "消费税": "消费税",
    "企业所得税": "企业所得税",
    "个人所得税": "个人所得税",
    "个税": "个人所得税",
    "城市维护建设税": "城市维护建设税",
    "城建税": "城市维护建设税",
    "教育费附加": "教育费附加",
    "地方教育附加": "地方教育附加",
    "印花税": "印花税",
    "房产税": "房产税",
    "城镇土地使用税": "城镇土地使用税",
    "土地增值税": "土地增值税",
    "车船税": "车船税",
    "车辆购置税": "车辆购置税",
    "契税": "契税",
    "耕地占用税": "耕地占用税",
    "资源税": "资源税",
    "环境保护税": "环境保护税",
    "烟叶税": "烟叶税",
    "船舶吨税": "船舶吨税",
    "关税": "关税",
}
# a law title (增值税法) or an invoice kind (增值税专用发票) is not a mention of the tax itself
_TAX_TYPE = re.compile(
    "(?:"
    + "|".join(re.escape(k) for k in sorted(TAX_TYPES, key=len, reverse=True))
    + r")(?!\s*(?:法|暂行条例|条例|(?:专用|普通|电子普通)?\s*发票))"
)
_NOT_GUANSHUI_BEFORE = frozenset("相有机海攸")

# --- organisations and persons -----------------------------------------------------------------
_ORG_SUFFIX = re.compile(
    r"股份有限公司|有限责任公司|有限公司|分公司|合伙企业(?:[（(](?:有限|普通)合伙[)）])?"
    r"|个人独资企业|个体工商户|经营部|门市部|商行|工作室|事务所|合作社"
    r"|税务局(?:第[一二三四五六七八九十]+)?稽查局|稽查局|税务分局|税务局|税务所"
    r"|人民法院|人民检察院|公安局"
)
_ORG_STOP = frozenset("的对与向在被将把给经由系即及等为是称从至该其了和或并你我他她它您年月到")
# verbs that sit right before a party name in case facts: 收到/取得/调增 X公司 ...
_ORG_STOP_BIGRAMS = _words(
    "收到 取得 调增 调减 申请 收取 开具 接受 支付 销售 购买 提供 成立 注册 设立 登记 位于 属于 "
    "作为 发现 认定 要求 告知 送达 缴纳 补缴 申报 虚开 进行 存在 经营 之日 日起 转入 转给 付给 "
    "合作 签订 约定 联系 介绍 通知 移送 指定 控股 投资 关于 支持 根据 依照 按照"
)
_DAY_END = frozenset(" \t\u3000一二三四五六七八九十")
_ORG_LEAD = (
    "经查",
    "查明",
    "纳税人",
    "当事人",
    "涉案企业",
    "涉案",
    "本案",
    "其中",
    "同时",
    "另外",
    "以及",
    "通过",
    "利用",
    "控制",
    "下属",
    "关联",
    "旗下",
    "委托",
    "受托",
    "依法",
    "检查",
    "稽查",
    "局",  # the tail of a name broken across a PDF line: 总\n局辽宁省税务局
    "司",
    "者",
)
_ORG_MAX_CORE = 40
SURNAMES: tuple[str, ...] = (
    *_words("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 令狐 夏侯"),
    *(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶"
        "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺"
        "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关"
        "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
        "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全"
        "佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    ),
)
_SURNAME_RE = "|".join(sorted(SURNAMES, key=len, reverse=True))
# 王某某 / 王某 / 王某甲 as anonymised in published cases, but not 于某日, 向某公司, 浙江某某公司
_ANON_PERSON = re.compile(
    rf"(?:{_SURNAME_RE})"
    r"(?:某某(?!公司|企业|单位|集团|商行|店|厂)|某(?![某日月年时天处地些种项个家企公单部店厂局所]))"
    r"[甲乙丙丁]?"
)
_ROLE_PERSON = re.compile(
    r"(?:法定代表人|法人代表|负责人|经营者|实际控制人|实际经营人|业主|股东|会计|出纳|姓名|"
    r"被检查人|投资人)[ \t\u3000:：为是系]*"
    rf"(?P<name>(?:{_SURNAME_RE})[\u4e00-\u9fff]{{1,2}})"
)
# jieba tags 万分之 and 金三(期) as names; given names do not contain these
_NOT_IN_GIVEN_NAME = frozenset("之分三期税")
# two-character words after a role title that start with a surname character but are not names
_ROLE_NOT_NAMES = _words(
    "申报 管理 经营 安排 负责 签字 签名 同意 承认 确认 表示 陈述 于是 金额 向其 和其"
)
_NAME_STOP = frozenset("于在将的对与和及为是因等已未向从把被以个称系均涉等")


def _entity(
    kind: str,
    start: int,
    end: int,
    value: str,
    *,
    valid: bool = True,
    note: str | None = None,
) -> Candidate:
    return Candidate(kind, start, end, value, valid, note)


# PDF text loses the thousands comma at a line break: 价税合计605\n259.00元 is 605,259.00 yuan
_BROKEN_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3})\n(?=\d{3}(?:,\d{3})*(?:\.\d+)?[ \t]*元)")


def _amounts(norm: str) -> Iterator[Candidate]:
    norm = _BROKEN_THOUSANDS.sub(lambda m: m[1] + ",", norm)  # same length: offsets hold
    for m in _AMOUNT.finditer(norm):
        num, tail = m["num"], m["tail"]
        candidates = [(m.start(), num)]
        # "统一3万元": drop leading characters that only look like numerals
        candidates += [
            (m.start("num") + i, num[i:])
            for i in range(1, len(num))
            if re.match(f"[{_NUM_START}]", num[i]) and not re.match(r"[0-9.,]", num[i - 1])
        ]
        for start, body in candidates:
            try:
                value = parse_amount(re.sub(r"\s+", "", body) + "元" + tail)
            except ValueError:
                continue
            yield _entity("amount", start, m.end(), str(value), note=_amount_note(body, tail))
            break
    for m in _SYMBOL_AMOUNT.finditer(norm):
        try:
            value = parse_amount(m["num"])
        except ValueError:
            continue
        yield _entity("amount", m.start(), m.end(), str(value))


def _amount_note(body: str, tail: str) -> str | None:
    digits = body.replace(",", "")
    if (
        "." in digits
        and not any(ch in "万亿千萬億" for ch in digits)
        and len(digits.rsplit(".", 1)[1].rstrip("0")) > 2
        and not tail
    ):
        return "金额超过两位小数，已按分四舍五入"
    return None


def _date_value(y: int, m: int, d: int) -> tuple[str, bool]:
    try:
        return date(y, m, d).isoformat(), True
    except ValueError:
        return f"{y:04d}-{m:02d}-{d:02d}", False


def _dates(norm: str, reference_date: date | None) -> Iterator[Candidate]:
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(norm):
            try:
                y, mo, d = parse_integer(m["y"]), parse_integer(m["m"]), parse_integer(m["d"])
            except ValueError:
                continue
            value, ok = _date_value(y, mo, d)
            note = None if ok else "日期不存在"
            if ok and reference_date and date.fromisoformat(value) > reference_date:
                note = f"晚于参照日期{reference_date.isoformat()}"
            yield _entity("date", m.start(), m.end(), value, valid=ok, note=note)
    if reference_date is None:
        return
    for m in _MONTH_DAY.finditer(norm):
        try:
            mo, d = parse_integer(m["m"]), parse_integer(m["d"])
        except ValueError:
            continue
        year = reference_date.year
        value, ok = _date_value(year, mo, d)
        if ok and date.fromisoformat(value) > reference_date:
            value, ok = _date_value(year - 1, mo, d)
        note = f"未写年份，按参照日期推定为{value[:4]}年" if ok else "日期不存在"
        yield _entity("date", m.start(), m.end(), value, valid=ok, note=note)


def _invoice_entity(start: int, end: int, digits: str, is_code: bool) -> Candidate:
    expected = (10, 12) if is_code else (8, 20)
    label = "发票代码" if is_code else ("全电发票号码" if len(digits) == 20 else "发票号码")
    if len(digits) in expected:
        return _entity("invoice_number", start, end, digits, note=label)
    want = "10位或12位" if is_code else "8位（全电发票为20位）"
    return _entity(
        "invoice_number",
        start,
        end,
        digits,
        valid=False,
        note=f"{label.removeprefix('全电')}应为{want}，实际为{len(digits)}位",
    )


def _invoices(norm: str) -> Iterator[Candidate]:
    for key in _INVOICE_KEY.finditer(norm):
        is_code = key["what"] == "代码"
        fill = _INVOICE_FILL.match(norm, key.end())
        pos = fill.end() if fill else key.end()
        for _ in range(100):  # a listed run of numbers: 发票号码分别为12345678、12345679
            run = _DIGITS.match(norm, pos)
            if run is None or (run.end() < len(norm) and norm[run.end()] in ".元万年"):
                break
            yield _invoice_entity(run.start(), run.end(), run.group(), is_code)
            sep = _INVOICE_SEP.match(norm, run.end())
            if sep is None:
                break
            pos = sep.end()
    for m in _TWENTY_DIGITS.finditer(norm):
        if "发票" in norm[max(0, m.start() - 30) : m.start()]:
            yield _entity("invoice_number", m.start(), m.end(), m.group(), note="全电发票号码")


def _identifiers(norm: str, reference_date: date | None) -> Iterator[Candidate]:
    for m in _ID_TOKEN.finditer(norm):
        token, start, end = m.group(), m.start(), m.end()
        upper = token.upper()
        context = [c for c in _ID_CONTEXT.finditer(norm, max(0, start - 24), start)]
        nearest = context[-1].lastgroup if context else None
        if nearest == "other":
            continue
        if validate_resident_id(upper, as_of=reference_date):
            yield _entity("resident_id", start, end, upper)
        elif validate_uscc(upper):
            yield _entity("uscc", start, end, upper)
        elif nearest == "rid":
            problem = resident_id_problem(upper, as_of=reference_date)
            yield _entity("resident_id", start, end, upper, valid=False, note=problem)
        elif nearest == "uscc" or (
            not upper.isdigit() and upper[0] in USCC_REGISTRATION_DEPTS and upper[2:8].isdigit()
        ):
            problem = uscc_problem(upper)
            yield _entity("uscc", start, end, upper, valid=False, note=problem)
    # a code of the wrong length right after its label is still worth flagging
    keyed: tuple[tuple[re.Pattern[str], str], ...] = (
        (_USCC_KEY, "uscc"),
        (_RID_KEY, "resident_id"),
    )
    for key_re, kind in keyed:
        for key in key_re.finditer(norm):
            run = _ALNUM_RUN.match(norm, key.end())
            if run is None or len(run.group()) == 18 or len(run.group()) < 6:
                continue
            upper = run.group().upper()
            problem = uscc_problem(upper) if kind == "uscc" else resident_id_problem(upper)
            yield _entity(kind, run.start(), run.end(), upper, valid=False, note=problem)


def _tax_types(norm: str) -> Iterator[Candidate]:
    for m in _TAX_TYPE.finditer(norm):
        if m.group() == "关税" and m.start() > 0 and norm[m.start() - 1] in _NOT_GUANSHUI_BEFORE:
            continue
        if m.group() == "关税" and m.end() < len(norm) and norm[m.end()] in "务收费":
            continue
        yield _entity("tax_type", m.start(), m.end(), TAX_TYPES[m.group()])


def _org_boundary(norm: str, i: int) -> bool:
    """True when the character before position i cannot belong to the name ending after it."""
    ch = norm[i - 1]
    if not (_CJK.match(ch) or (ch.isascii() and ch.isalpha())) or ch in _ORG_STOP:
        return True
    if i >= 2 and norm[i - 2 : i] in _ORG_STOP_BIGRAMS:
        return True
    # 2021年5月23日收到X公司 / 二十三日X公司
    return ch == "日" and i >= 2 and (norm[i - 2].isdigit() or norm[i - 2] in _DAY_END)


def _organisations(orig: str, norm: str) -> Iterator[Candidate]:
    for m in _ORG_SUFFIX.finditer(norm):
        i, depth = m.start(), 0
        while i > 0 and m.start() - i < _ORG_MAX_CORE:
            ch = norm[i - 1]
            if ch in "）)":
                depth += 1
            elif ch in "（(":
                if depth == 0:
                    break
                depth -= 1
            elif _org_boundary(norm, i):
                break
            i -= 1
        if depth:
            continue
        stripped = True
        while stripped:
            stripped = False
            for lead in _ORG_LEAD:
                if norm.startswith(lead, i) and m.start() - i - len(lead) >= 2:
                    i += len(lead)
                    stripped = True
        if m.start() - i < 2:
            continue
        name = re.sub(r"\s+", "", orig[i : m.end()])
        yield _entity("organisation", i, m.end(), name, note="规则识别，需人工核对")


def _persons(norm: str) -> Iterator[Candidate]:
    for m in _ANON_PERSON.finditer(norm):
        yield _entity("person", m.start(), m.end(), m.group(), note="匿名化姓名")
    for m in _ROLE_PERSON.finditer(norm):
        name = m["name"]
        cut = next((k for k in range(2, len(name)) if name[k] in _NAME_STOP), len(name))
        end = m.start("name") + cut
        if name[:cut] in _ROLE_NOT_NAMES:
            continue
        runs_on = end < len(norm) and _CJK.match(norm[end]) and norm[end] not in _NAME_STOP
        if runs_on and cut == len(name):
            continue  # the name runs on into other words: not a clean boundary
        yield _entity("person", m.start("name"), end, name[:cut], note="按身份称谓识别，需人工核对")


# --- periods -----------------------------------------------------------------------------------
# Tax periods and spans of months or years: 2019年3月至2020年5月, 2019年至2023年, 2023年度,
# 2024年3月. A span of two full dates stays two dates (limitation and 滞纳金 count from each).
# PDF text breaks lines inside periods (2009年11月至2022年6\n月): newlines count as spaces here
_PWS = r"[ \t\u3000\n]"


def _year_month(p: str, *, year_optional: bool = False) -> str:
    """Year and optional month (not followed by a day), groups named with prefix `p`; the
    year of a span's end may be left out (2023年6月至9月)."""
    no_day = rf"(?!{_PWS}*\d{{1,2}}{_PWS}*[日号])"
    year = rf"(?P<{p}y>\d{{4}}){_PWS}*年"
    month = rf"(?:{_PWS}*(?P<{p}m>\d{{1,2}}){_PWS}*月{no_day})?"
    return rf"(?=\d)(?:{year})?{month}" if year_optional else year + month


_PERIOD = re.compile(
    rf"(?<!\d)(?P<a>{_year_month('a')})"
    rf"(?:{_PWS}*(?:至|到|－|—|-|~|～){_PWS}*{_year_month('b', year_optional=True)})?"
    rf"(?P<du>度|期间|间)?"
)


def _ym(year: str, month: str | None) -> str | None:
    y = int(year)
    if month is None:
        return f"{y:04d}"
    m = int(month)
    return f"{y:04d}-{m:02d}" if 1 <= m <= 12 else None


def _periods(norm: str) -> Iterator[Candidate]:
    for m in _PERIOD.finditer(norm):
        first = _ym(m["ay"], m["am"])
        # 2023年至9月 and 2023年至2024 are no spans: the period is the first part alone
        spans = m["by"] is not None or (m["bm"] is not None and m["am"] is not None)
        last = _ym(m["by"] or m["ay"], m["bm"]) if spans else None
        if first is None or (spans and last is None):
            yield _entity("period", m.start(), m.end(), m.group(), valid=False, note="月份不存在")
            continue
        if not spans:
            if m["am"] is None and m["du"] != "度":
                continue
            end = m.end() if m["du"] == "度" and m.end("a") == m.start("du") else m.end("a")
        else:
            end = m.end() - len(m["du"] or "") if m["du"] != "度" else m.end()
        yield _entity("period", m.start(), end, f"{first}/{last}" if last else first)


# --- statute citations -------------------------------------------------------------------------
def _statutes(text: str) -> Iterator[Candidate]:
    """Cited provisions as statute ids, read by the legal core's one citation parser."""
    for citation in parse_citations(text):
        start, end = citation.span
        yield _entity("statute", start, end, citation.id)


FinderFn = Callable[[str, str, "date | None"], Iterator[Candidate]]

#: The rule finders, one spaCy component each, in pipeline order: name -> finder(text, normalized
#: text, reference date). A new kind of mention is one entry here.
RULE_FINDERS: dict[str, FinderFn] = {
    "identifiers": lambda text, norm, ref: _identifiers(norm, ref),
    "invoices": lambda text, norm, ref: _invoices(norm),
    "amounts": lambda text, norm, ref: _amounts(norm),
    "dates": lambda text, norm, ref: _dates(norm, ref),
    "periods": lambda text, norm, ref: _periods(norm),
    "tax_types": lambda text, norm, ref: _tax_types(norm),
    "statutes": lambda text, norm, ref: _statutes(text),
    "organisations": lambda text, norm, ref: _organisations(text, norm),
    "persons": lambda text, norm, ref: _persons(norm),
}


def normalize(text: str) -> str:
    """Full-width digits and letters as ASCII; same length, so offsets hold for the original."""
    return text.translate(_FULLWIDTH)
