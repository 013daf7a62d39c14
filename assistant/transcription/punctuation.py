"""笔录 punctuation and numbers: full-width Chinese punctuation, Arabic figures as officers write.

Whisper writes "对,这就是我" (ASCII comma) or "１２" (full-width digits) depending on what it saw
in training; documents use full-width punctuation and half-width Arabic figures (design.md). The
change is one character for one character, so word timestamps keep spelling their segment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

_TO_FULL = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；"}
# Sentence-final punctuation a 笔录 line may end with.
FINAL = set("。？！…；：，、”’）》】")


def _is_cjk(ch: str) -> bool:
    return bool(ch) and ("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003ffff")


def readable_pieces(pieces: Sequence[str]) -> list[str]:
    """The pieces (a segment's words, or one text) with Chinese punctuation and ASCII figures.

    Context is the joined text: "12,000" and "10:30" keep their ASCII separator, "2.5" its point.
    """
    joined = "".join(pieces)
    out = list(joined)
    for i, ch in enumerate(joined):
        prev = joined[i - 1] if i else ""
        nxt = joined[i + 1] if i + 1 < len(joined) else ""
        if ch in _TO_FULL:
            if not (prev.isdigit() and nxt.isdigit()):
                out[i] = _TO_FULL[ch]
        elif ch == "." and _is_cjk(prev) and not nxt.isdigit():
            out[i] = "。"
        elif "\uff10" <= ch <= "\uff5a" or ch == "％":  # full-width digits, letters, percent
            out[i] = unicodedata.normalize("NFKC", ch)
    result, position = [], 0
    for piece in pieces:
        result.append("".join(out[position : position + len(piece)]))
        position += len(piece)
    return result


def join_words(words: Sequence[str]) -> str:
    """Words as one line: no spaces, except between two Latin words ("VAT invoice")."""
    text = ""
    for word in words:
        latin = word[:1].isascii() and word[:1].isalpha()
        if latin and text and text[-1].isascii() and text[-1].isalnum():
            text += " "
        text += word
    return text


def readable_text(text: str) -> str:
    """One text made readable; spaces Whisper puts between Chinese characters are dropped."""
    (fixed,) = readable_pieces([text])
    chars = []
    for i, ch in enumerate(fixed):
        if ch == " ":
            prev = fixed[i - 1] if i else ""
            nxt = fixed[i + 1] if i + 1 < len(fixed) else ""
            if not (prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum()):
                continue
        chars.append(ch)
    return "".join(chars).strip()


def ends_with_punctuation(text: str) -> bool:
    return bool(text) and text[-1] in FINAL
