"""Officer-typed text made fit for an official document: Simplified, full-width punctuation.

Only free text (facts, evidence, citations) goes through here; names, identifiers and document
numbers are printed exactly as given, because they must match registers character for character.
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

_ALWAYS = str.maketrans({";": "；", "!": "！", "?": "？", "(": "（", ")": "）"})
# A comma or colon between two digits is a thousands separator or a clock time: keep it.
_COMMA = re.compile(r",(?!\d)|(?<!\d),")
_COLON = re.compile(r":(?!\d)|(?<!\d):")
_CJK = r"[\u3400-\u9fff\uff08\uff09\u201c\u201d]"
_PERIOD = re.compile(rf"(?<={_CJK})\.(?!\d)")
_QUOTED = re.compile(r"[\"']([^\"'\n]*)[\"']")
# Full-width punctuation carries its own spacing; a space beside it or between two CJK
# characters is a typing accident.
_SPACE_AFTER = re.compile(r"(?<=[，。；：！？、（）“”])\s+|\s+(?=[，。；：！？、（）“”])")
_SPACE_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_document_text(text: str) -> str:
    """Simplified characters, full-width punctuation, no stray spaces; lines are kept."""
    simplified = _t2s().convert(text)
    lines = []
    for raw in simplified.splitlines():
        line = raw.strip().translate(_ALWAYS)
        line = _COMMA.sub("，", line)
        line = _COLON.sub("：", line)
        line = _PERIOD.sub("。", line)
        line = _QUOTED.sub(lambda m: f"“{m.group(1)}”", line)
        line = _SPACE_CJK.sub("", _SPACE_AFTER.sub("", line))
        if line:
            lines.append(line)
    return "\n".join(lines)


# How an officer's note names the party in the third person; a document speaks to the party.
_THIRD_PERSON = ("该扣缴义务人", "该纳税人", "该公司", "该单位", "该企业", "该户", "当事人")


def addressed_to_party(facts: str, party_name: str, pronoun: str) -> str:
    """The recorded facts as a document addressed to the party states them: 经查，你单位….

    Only the naming changes (该公司 / the party's name -> 你单位); every figure, date and name
    of the record stays as recorded, so the fact guard still finds each of them in the record.
    """
    lines = []
    for line in to_document_text(facts).splitlines():
        for word in (*_THIRD_PERSON, party_name.strip()):
            if word:
                line = line.replace(word, pronoun)
        lines.append(line)
    if lines and not lines[0].startswith(("经查", "经检查", "经核查")):
        if len(lines) == 1:
            lines[0] = "经查，" + lines[0]
        else:  # several facts, one a paragraph: the lead-in stands alone
            lines.insert(0, "经查：")
    return "\n".join(lines)
