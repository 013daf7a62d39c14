"""USCC (GB 32100-2015) and resident ID (GB 11643-1999) check characters."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.nlp import (
    USCC_ALPHABET,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
    validate_resident_id,
    validate_uscc,
)

# Bodies written for these tests; the 18th character is computed, as the standard prescribes.
BODIES = ["91350100M000100Y4", "91110108MA01ABCD2", "52100000500021676", "12100000400000624"]


def make_uscc(body: str) -> str:
    return body + uscc_check_char(body)


def test_alphabet_is_31_chars_without_ambiguous_letters() -> None:
    assert len(USCC_ALPHABET) == 31 == len(set(USCC_ALPHABET))
    assert not set("IOZSV") & set(USCC_ALPHABET)


def test_check_char_by_hand() -> None:
    # weighted sum of 91350100M000100Y4 = 1640; 1640 mod 31 = 28; 31 - 28 = 3 -> "3"
    body = "91350100M000100Y4"
    values = [USCC_ALPHABET.index(c) for c in body]
    weights = [pow(3, i, 31) for i in range(17)]
    assert sum(v * w for v, w in zip(values, weights, strict=True)) % 31 == 28
    assert uscc_check_char(body) == "3"


@pytest.mark.parametrize("body", BODIES)
def test_constructed_codes_are_valid(body: str) -> None:
    code = make_uscc(body)
    assert validate_uscc(code)
    assert uscc_problem(code) is None
    assert validate_uscc(code.lower())  # officers type lower case


@pytest.mark.parametrize("body", BODIES)
def test_every_single_substitution_is_caught(body: str) -> None:
    code = make_uscc(body)
    caught = total = 0
    for pos in range(18):
        for ch in USCC_ALPHABET:
            if ch == code[pos]:
                continue
            total += 1
            caught += not validate_uscc(code[:pos] + ch + code[pos + 1 :])
    # mod 31 with weights coprime to 31 detects every single substitution
    assert caught == total == 18 * 30


def test_problems_name_the_reason() -> None:
    code = make_uscc(BODIES[0])
    assert "长度" in (uscc_problem(code[:-1]) or "")
    assert "非法字符“O”" in (uscc_problem(code[:5] + "O" + code[6:]) or "")
    assert "首位" in (uscc_problem("X" + code[1:]) or "")
    assert "行政区划码" in (uscc_problem(code[:3] + "A" + code[4:]) or "")
    wrong = "0" if code[-1] != "0" else "1"
    problem = uscc_problem(code[:-1] + wrong) or ""
    assert "校验位错误" in problem and f"应为“{code[-1]}”" in problem


def test_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9135010")
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_body_with_its_check_char_passes_the_checksum(body: str) -> None:
    problem = uscc_problem(body + uscc_check_char(body))
    assert problem is None or "校验位" not in problem


# GB 11643-1999 worked example (appendix): 11010519491231002X
GB_EXAMPLE_ID = "11010519491231002X"


def test_resident_id_gb_example() -> None:
    assert resident_id_check_char(GB_EXAMPLE_ID[:17]) == "X"
    assert validate_resident_id(GB_EXAMPLE_ID)
    assert validate_resident_id(GB_EXAMPLE_ID.lower())


def test_resident_id_every_digit_substitution_is_caught() -> None:
    body = "44030619900307123"
    number = body + resident_id_check_char(body)
    assert validate_resident_id(number)
    caught = total = 0
    for pos in range(17):
        for digit in "0123456789":
            if digit != number[pos]:
                total += 1
                caught += not validate_resident_id(number[:pos] + digit + number[pos + 1 :])
    assert caught == total


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("1101051949123100", "长度"),
        ("11010519491231002Y", "格式"),
        ("01010519491231002X", "首位"),
        ("110105" + "19490230" + "0021", "出生日期"),
        ("110105" + "20990101" + "0021", "不合理"),
        ("110105194912310021", "校验码"),
    ],
)
def test_resident_id_problems(number: str, reason: str) -> None:
    problem = resident_id_problem(number, as_of=date(2026, 1, 1))
    assert problem is not None and reason in problem
    assert not validate_resident_id(number, as_of=date(2026, 1, 1))


def test_resident_id_birth_date_after_as_of() -> None:
    body = "11010520250601002"
    number = body + resident_id_check_char(body)
    assert validate_resident_id(number, as_of=date(2026, 1, 1))
    assert not validate_resident_id(number, as_of=date(2025, 1, 1))
