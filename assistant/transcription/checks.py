"""Checks that a recognised segment was heard, not invented (pure functions, no model).

Whisper can loop ("押押押押…"), emit rare or broken characters ("鋳", "�"), or write text where
nobody spoke (a tail after the last word, subtitle credits on noise). A transcript that becomes a
signed 询问笔录 must show such a segment as a point to check, never as words someone said; the
backend decodes a flagged segment once more and otherwise keeps a placeholder (see backend.py).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.config import PROJECT_ROOT

CHARSET = PROJECT_ROOT / "corpora" / "asr" / "general_standard_chars.txt"
CREDITS = PROJECT_ROOT / "corpora" / "asr" / "subtitle_credits.txt"

# zlib ratio (UTF-8 bytes / compressed) above which a segment is a loop. Measured on 9,642 real
# sentences of 8–120 characters from ../shared/corpora/cases (SAT bulletins): max 1.71, 99.9th
# percentile 1.46; the loops whisper-base wrote on the real speech corpus: 2.12–2.84. Whisper's
# own 2.4 is tuned on English, where Chinese loops of a segment's length stay below it.
MAX_COMPRESSION_RATIO = 1.8
# Characters per second of speech above which text cannot all have been said (fast Mandarin is
# about 5–7 characters per second).
MAX_CHARS_PER_SECOND = 10.0
# A word that starts this long after the last speech the VAD found was not heard.
PAST_SPEECH_TOLERANCE = 0.5
# Less speech than this inside a segment: nobody spoke there.
MIN_SPEECH_SECONDS = 0.1
# The model's own doubt: below this mean token log-probability (whisper's fallback threshold), or
# below NOISE_LOGPROB while it also rates the window as probably not speech. On the real speech
# corpus every utterance scored >= -0.29 with no-speech <= 0.28; the same recordings played
# backwards (speech-like sound without words) scored -0.45 to -0.86 with no-speech up to 0.98.
MIN_LOGPROB = -1.0
NOISE_LOGPROB = -0.4
NOISE_NO_SPEECH = 0.5

# Digits, Latin letters and the punctuation a 笔录 uses are allowed beside the 8,105 characters.
_EXTRA = set(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    " ，。、；：？！“”‘’（）《》〈〉【】—…·－-,.;:?!'\"()[]〔〕<>*%％‰/+=×¥$℃〇"
)
_REPEAT = re.compile(r"(\D{2,12}?)\1{2,}|(\D)\2{3,}")

# Reasons a segment is flagged, as recorded in the transcript metadata.
REPETITION = "repetition"
OUTSIDE_CHARSET = "outside_charset"
INVALID_UTF8 = "invalid_utf8"
NO_SPEECH = "no_speech"
PAST_SPEECH_END = "past_speech_end"
TOO_FAST = "too_fast"
LOW_CONFIDENCE = "low_confidence"
SUBTITLE_CREDIT = "subtitle_credit"
# The VAD heard speech and the decoding kept nothing (no words, or only the prompt read back).
NOTHING_DECODED = "nothing_decoded"

# A segment this short at the end of a decoded chunk, after words that passed, that the model
# doubts (or rates as noise) is the decoder running on into the pause, not a word: whisper-base
# wrote a ~0.6-s loop after 换一首歌试试 once its no-speech skip was off inside chunks.
TAIL_SECONDS = 0.6


@lru_cache(maxsize=1)
def general_standard_chars(path: Path = CHARSET) -> frozenset[str]:
    """The 8,105 characters of 《通用规范汉字表》 (data file in corpora/asr, source named there)."""
    text = "".join(
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    )
    return frozenset(text)


@lru_cache(maxsize=1)
def charset_sha256(path: Path = CHARSET) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def credits_sha256(path: Path = CREDITS) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def credit_phrases(path: Path = CREDITS) -> tuple[str, ...]:
    """CREDIT_PHRASES: the subtitle credits of the data file (its comment says where from)."""
    return tuple(
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


CREDIT_PHRASES = credit_phrases()


@lru_cache(maxsize=1)
def _credit_pattern() -> re.Pattern[str]:
    """One alternation, longest phrase first; spaces inside a phrase match any spacing."""
    parts = []
    for phrase in sorted(CREDIT_PHRASES, key=len, reverse=True):
        words = [re.escape(w) for w in phrase.split()]
        body = r"[\s，,、]*".join(words).replace(r"\*", r".{0,20}?")
        parts.append(body)
    return re.compile("|".join(parts))


def credit_only(text: str) -> bool:
    """Nothing in the text but subtitle credits, spaces and punctuation: never testimony."""
    rest = _credit_pattern().sub("", text)
    letters = "".join(ch for ch in text if ch.isalnum())
    return bool(letters) and not any(ch.isalnum() for ch in rest)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def has_repetition(text: str) -> bool:
    """A loop: a 2–12 character unit three times in a row, one character four times, or a text
    that compresses too well. Digits are exempt (10000 is an amount, not a loop)."""
    letters = "".join(ch for ch in text if ch.isalnum())  # "……" and "——" are punctuation
    compact = "".join(text.split())
    return bool(_REPEAT.search(letters)) or compression_ratio(compact) > MAX_COMPRESSION_RATIO


def outside_charset(text: str) -> list[str]:
    """Characters neither in the table nor digits, Latin letters or punctuation."""
    table = general_standard_chars()
    return sorted(
        {
            ch
            for ch in text
            if ch not in table
            and ch not in _EXTRA
            and not ch.isspace()
            and unicodedata.normalize("NFKC", ch) not in _EXTRA
        }
    )


def speech_overlap(start: float, end: float, speech: Sequence[tuple[float, float]]) -> float:
    """Seconds of speech (VAD intervals) inside [start, end]."""
    return sum(max(0.0, min(end, e) - max(start, s)) for s, e in speech)


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[str, ...]
    speech_seconds: float

    @property
    def ok(self) -> bool:
        return not self.reasons


def check_segment(
    text: str,
    start: float,
    end: float,
    *,
    speech: Sequence[tuple[float, float]] | None,
    word_starts: Sequence[float] = (),
    avg_logprob: float = 0.0,
    no_speech_prob: float = 0.0,
) -> Verdict:
    """Why the segment may be invented (empty: nothing found). `speech` None: no VAD to compare."""
    reasons: list[str] = []
    if avg_logprob < MIN_LOGPROB or (
        no_speech_prob > NOISE_NO_SPEECH and avg_logprob < NOISE_LOGPROB
    ):
        reasons.append(LOW_CONFIDENCE)
    if not any(ch.isalnum() for ch in text):
        reasons.append(NOTHING_DECODED)
    if "\ufffd" in text:
        reasons.append(INVALID_UTF8)
    if credit_only(text):
        reasons.append(SUBTITLE_CREDIT)
    if has_repetition(text):
        reasons.append(REPETITION)
    if outside_charset(text.replace("\ufffd", "")):
        reasons.append(OUTSIDE_CHARSET)
    spoken = end - start
    if speech is not None:
        spoken = speech_overlap(start, end, speech)
        if spoken < MIN_SPEECH_SECONDS:
            reasons.append(NO_SPEECH)
        else:
            last = max((e for s, e in speech if s < end), default=0.0)
            if any(w > last + PAST_SPEECH_TOLERANCE for w in word_starts):
                reasons.append(PAST_SPEECH_END)
    letters = sum(1 for ch in text if ch.isalnum())
    if spoken >= MIN_SPEECH_SECONDS and letters > MAX_CHARS_PER_SECOND * spoken + 2:
        reasons.append(TOO_FAST)
    return Verdict(tuple(reasons), round(spoken, 3))


def placeholder(start: float, end: float) -> str:
    """The visible mark kept instead of text that could not be recognised reliably."""
    return f"【无法识别 {clock(start)}–{clock(end)}】"


def clock(seconds: float) -> str:
    """00:12.3 (or 1:02:03.4 past an hour), tenths of a second, as the officer seeks in a player."""
    tenths = round(max(seconds, 0.0) * 10)
    minutes, rest = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    secs = f"{rest // 10:02d}.{rest % 10}"
    return f"{hours}:{minutes:02d}:{secs}" if hours else f"{minutes:02d}:{secs}"
