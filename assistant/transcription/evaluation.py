"""Accuracy evaluation on a Kaldi/AISHELL-layout dataset: CER after punctuation removal and t2s.

Both the reference and the hypothesis go through the same normalization, so the score measures
recognition, not the script (traditional vs simplified) or the punctuation the model chose.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import InvalidInput
from assistant.legal import chinese_digits, chinese_number
from assistant.transcription.backend import Transcriber, to_simplified


@dataclass(frozen=True)
class Utterance:
    id: str
    path: Path
    reference: str


@dataclass(frozen=True)
class UtteranceScore:
    id: str
    reference: str
    hypothesis: str
    errors: int
    reference_chars: int

    @property
    def cer(self) -> float:
        return self.errors / self.reference_chars if self.reference_chars else 0.0


@dataclass(frozen=True)
class EvalReport:
    utterances: tuple[UtteranceScore, ...]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def cer(self) -> float:
        """Corpus CER: total edits over total reference characters (not a mean of ratios)."""
        chars = sum(u.reference_chars for u in self.utterances)
        return sum(u.errors for u in self.utterances) / chars if chars else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cer": round(self.cer, 4),
            "utterances": [
                {
                    "id": u.id,
                    "reference": u.reference,
                    "hypothesis": u.hypothesis,
                    "errors": u.errors,
                    "reference_chars": u.reference_chars,
                    "cer": round(u.cer, 4),
                }
                for u in self.utterances
            ],
            "settings": self.settings,
        }


def normalize_for_cer(text: str) -> str:
    """Simplified script, no punctuation or spaces, full-width letters/digits folded, lower case."""
    text = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    return "".join(ch for ch in text if not _is_punct_or_space(ch))


def _is_punct_or_space(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in ("P", "S", "Z") or ch.isspace()


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance over characters (substitutions + deletions + insertions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_char in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_char in enumerate(hypothesis, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ref_char != hyp_char),
            )
        previous = current
    return previous[-1]


def load_kaldi_dataset(directory: Path) -> list[Utterance]:
    """wav.scp (id → path, relative to the dataset) joined with text (id → reference)."""
    scp, text = directory / "wav.scp", directory / "text"
    if not scp.is_file() or not text.is_file():
        raise InvalidInput(
            "dataset_layout",
            "数据集目录须包含 wav.scp 与 text 两个文件（Kaldi/AISHELL 格式）。",
            details={"dataset": str(directory)},
        )
    references = dict(_kaldi_lines(text))
    utterances = []
    for utt_id, location in _kaldi_lines(scp):
        if utt_id not in references:
            continue  # recordings without a reference are for plumbing, not scoring
        path = Path(location)
        if not path.is_absolute():
            path = directory / path
        if not path.is_file():
            raise InvalidInput(
                "dataset_missing_audio",
                f"数据集中的音频文件不存在：{location}",
                details={"id": utt_id, "path": str(path)},
            )
        utterances.append(Utterance(utt_id, path, references[utt_id]))
    if not utterances:
        raise InvalidInput("dataset_empty", "数据集中没有带参考文本的录音。")
    return utterances


def _kaldi_lines(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2:
            rows.append((parts[0], parts[1]))
    return rows


_DIGIT_RUN = re.compile(r"[0-9]+")
# More digit runs than this in one utterance: read them digit by digit only (2**n candidates).
_MAX_NUMBER_RUNS = 6


def digitwise_reading(number: str) -> str:
    """二零二五 for 2025: how years, phone numbers and 一二线 are spoken (AISHELL writes 零)."""
    return chinese_digits(number, zero="零")


def cardinal_reading(number: str) -> str:
    """四十五 for 45: how amounts and counts are spoken (integers below 10**16)."""
    if number.startswith("0") or len(number) > 16:
        return digitwise_reading(number)
    return chinese_number(int(number))


def _readings(hypothesis: str) -> list[str]:
    """The hypothesis with each Arabic number spelled out both ways it can be read aloud.

    Whisper writes 2025 and 45 in Arabic digits, transcripts of speech (AISHELL) spell numbers
    in characters; scoring 12 against 一二 as two substitutions would count a formatting choice
    as a recognition error. Each number may be read digit by digit or as a cardinal.
    """
    runs = _DIGIT_RUN.findall(hypothesis)
    if not runs:
        return [hypothesis]
    if len(runs) > _MAX_NUMBER_RUNS:
        return [_DIGIT_RUN.sub(lambda m: digitwise_reading(m.group()), hypothesis)]
    parts = _DIGIT_RUN.split(hypothesis)
    options = [(digitwise_reading(r), cardinal_reading(r)) for r in runs]
    readings = []
    for choice in itertools.product(*options):
        text = parts[0]
        for spelled, tail in zip(choice, parts[1:], strict=True):
            text += spelled + tail
        readings.append(text)
    return readings


def score(utt_id: str, reference: str, hypothesis: str) -> UtteranceScore:
    """CER of one utterance; an Arabic number counts as right if either reading of it is."""
    ref = _DIGIT_RUN.sub(lambda m: digitwise_reading(m.group()), normalize_for_cer(reference))
    best_hyp, best = "", -1
    for candidate in _readings(normalize_for_cer(hypothesis)):
        errors = edit_distance(ref, candidate)
        if best < 0 or errors < best:
            best_hyp, best = candidate, errors
    return UtteranceScore(utt_id, ref, best_hyp, best, len(ref))


def evaluate(
    transcriber: Transcriber,
    utterances: list[Utterance],
    *,
    language: str = "zh",
    initial_prompt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """CER per utterance and over the corpus; `progress(done, total)` after each utterance."""
    scores = []
    settings: dict[str, Any] = {}
    for done, utterance in enumerate(utterances, start=1):
        transcript = transcriber.transcribe(
            utterance.path, language=language, initial_prompt=initial_prompt
        )
        settings = transcript.model
        scores.append(score(utterance.id, utterance.reference, transcript.text))
        if progress is not None:
            progress(done, len(utterances))
    return EvalReport(tuple(scores), settings)
