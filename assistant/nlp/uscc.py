"""统一社会信用代码 (GB 32100-2015) and 公民身份号码 (GB 11643-1999) check-digit validation.

Officers copy these identifiers by hand from licences and ID cards; a wrong check character is
the cheapest typo to catch before a document names the wrong party.
"""

from __future__ import annotations

from datetime import date

# GB 32100-2015 §4: 31 characters, the letters I O Z S V are never used.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 §5 / Appendix B: weight of position i is 3**i mod 31.
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# 登记管理部门代码 (first character): 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游,
# 7 宗教, 8 工会, 9 市场监管(工商), A 中央军委改革和编制办公室, N 农业, Y 其他
# (GB 32100-2015 Appendix A as extended by the registration authorities' later assignments).
USCC_REGISTRATION_DEPTS = frozenset("123456789ANY")

# GB 11643-1999 §8.2: ISO 7064 MOD 11-2, weight of position i is 2**(17-i) mod 11.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK = "10X98765432"  # indexed by weighted sum mod 11

_USCC_INDEX = {ch: i for i, ch in enumerate(USCC_ALPHABET)}


def uscc_check_char(first17: str) -> str:
    """The 18th character the standard requires for these 17 (upper-case, USCC alphabet)."""
    body = first17.strip().upper()
    if len(body) != 17:
        raise ValueError(f"need exactly 17 characters, got {len(body)}")
    try:
        total = sum(_USCC_INDEX[ch] * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from exc
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None when the code is well formed, else the first reason it is not, in Chinese."""
    norm = code.strip().upper()
    if len(norm) != 18:
        return f"长度错误：统一社会信用代码应为18位，实际为{len(norm)}位"
    bad = [ch for ch in norm if ch not in _USCC_INDEX]
    if bad:
        return f"含非法字符“{bad[0]}”：统一社会信用代码只使用数字和除I、O、Z、S、V以外的大写字母"
    if norm[0] not in USCC_REGISTRATION_DEPTS:
        return f"首位登记管理部门代码“{norm[0]}”无效"
    if not norm[2:8].isdigit():
        return "第3至8位登记管理机关行政区划码应为6位数字"
    expected = uscc_check_char(norm[:17])
    if norm[17] != expected:
        return f"校验位错误：第18位应为“{expected}”，实际为“{norm[17]}”"
    return None


def validate_uscc(code: str) -> bool:
    """True for a well-formed code; lower case is accepted because officers type it that way."""
    return uscc_problem(code) is None


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character (0-9 or X) for 17 digits."""
    body = first17.strip()
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(body, RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def resident_id_problem(number: str, *, as_of: date | None = None) -> str | None:
    """None when the 18-digit number is well formed, else the reason in Chinese.

    The birth date (positions 7-14) must exist and not lie after `as_of` (default: today).
    """
    norm = number.strip().upper()
    if len(norm) != 18:
        return f"长度错误：公民身份号码应为18位，实际为{len(norm)}位"
    if not (norm[:17].isascii() and norm[:17].isdigit()) or norm[17] not in "0123456789X":
        return "格式错误：前17位应为数字，第18位应为数字或X"
    if norm[0] == "0":
        return "首位地址码不能为0"
    try:
        birth = date(int(norm[6:10]), int(norm[10:12]), int(norm[12:14]))
    except ValueError:
        return f"出生日期“{norm[6:14]}”不存在"
    limit = as_of or date.today()
    if birth.year < 1900 or birth > limit:
        return f"出生日期“{norm[6:14]}”不合理"
    expected = resident_id_check_char(norm[:17])
    if norm[17] != expected:
        return f"校验码错误：第18位应为“{expected}”，实际为“{norm[17]}”"
    return None


def validate_resident_id(number: str, *, as_of: date | None = None) -> bool:
    """True for an 18-digit 公民身份号码 with a real birth date and a correct check character."""
    return resident_id_problem(number, as_of=as_of) is None
