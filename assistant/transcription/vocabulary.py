"""The tax vocabulary prompt: glossary terms from corpora/ plus per-case names.

Whisper's initial prompt biases decoding toward the words it contains and toward simplified
script; it must stay short (the decoder keeps at most 223 prompt tokens) and must not read like
a sentence the model could parrot back on silence, so it is a plain list of terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.config import PROJECT_ROOT

GLOSSARY = PROJECT_ROOT / "corpora" / "asr" / "glossary.yaml"
# Characters, not tokens: a Chinese character is 1–2 tokens, so 120 stays well under 223.
MAX_PROMPT_CHARS = 120


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY) -> tuple[str, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(str(entry["term"]) for entry in data.get("terms", []))


def build_prompt(extra_terms: Iterable[str] = (), *, glossary: Path = GLOSSARY) -> str:
    """Case terms first (names matter most and would be cut last otherwise), then the glossary."""
    terms: list[str] = []
    for term in [*extra_terms, *load_glossary(glossary)]:
        term = term.strip()
        if term and term not in terms:
            terms.append(term)
    prompt = ""
    for term in terms:
        candidate = f"{prompt}、{term}" if prompt else term
        if len(candidate) + 1 > MAX_PROMPT_CHARS:
            break
        prompt = candidate
    return f"{prompt}。" if prompt else ""
