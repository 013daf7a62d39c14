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
