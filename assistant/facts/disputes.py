"""Points of dispute (争议焦点): the party's statements and defences, grouped by what they contest.

Read from the party's own words only: 答 turns of an interview (a question is the officer's,
even inside an answer segment) and recorded 陈述申辩. Each topic of `corpora/facts/cues.yaml`
names the facts it contests and the articles that decide it (行政处罚法第三十三条第二款 for a
claim of no fault, 第八十六条 of 征管法 for limitation …), plus the penalty article of the case's
violation where the defence goes to the violation itself, so the officer and the reviewer see
which finding must answer which statement (行政处罚法第四十五条: the facts, reasons and evidence
the party puts forward must be reviewed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.facts.cues import Cues, load_cues
from assistant.facts.propose import clauses, find_phrases, officer_words
from assistant.facts.sources import SourceRef, SourceText


@dataclass(frozen=True)
class Statement:
    source: SourceRef
    cues: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"cues": list(self.cues), "source": self.source.to_dict()}


@dataclass(frozen=True)
class Dispute:
    """One point of dispute: the statements that raise it, the facts and articles it contests."""

    topic: str
    label_zh: str
    fields: tuple[str, ...]
    articles: tuple[str, ...]
    statements: tuple[Statement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "label_zh": self.label_zh,
            "fields": list(self.fields),
            "articles": list(self.articles),
            "statements": [s.to_dict() for s in self.statements],
        }


def violation_basis(code: str | None, on: date | None) -> tuple[str, ...]:
    """The penalty provisions of a violation code in force on a date (taxonomy), as ids."""
    if not code:
        return ()
    from assistant.errors import InvalidInput
    from assistant.taxonomy import get_violation

    violation = get_violation(code)
    if on is None:
        return violation.legal_basis
    try:
        return violation.legal_basis_on(on)
    except InvalidInput:  # no version in force that day: the reviewer picks; show the current
        return violation.legal_basis


def find_disputes(
    texts: Iterable[SourceText],
    *,
    violation: str | None = None,
    on: date | None = None,
    cues: Cues | None = None,
) -> list[Dispute]:
    """The topics the party's words raise, each with its statements in order of appearance."""
    cues = cues or load_cues()
    basis = violation_basis(violation, on)
    found: dict[str, list[Statement]] = {}
    for st in texts:
        if st.source.kind not in ("recording", "statement"):
            continue
        spans = list(clauses(st.text))
        for a, b in spans:
            sentence = st.text[a:b]
            if officer_words(st.source, sentence, len(spans)):
                continue
            matches = find_phrases(sentence, {t.topic: t.cues for t in cues.disputes})
            for name in dict.fromkeys(m[2] for m in matches):
                said = [m[3] for m in matches if m[2] == name]
                found.setdefault(name, []).append(
                    Statement(st.quote(a, b), tuple(dict.fromkeys(said)))
                )
    out = []
    for topic in cues.disputes:
        if topic.topic not in found:
            continue
        articles = topic.articles + (basis if topic.violation_basis else ())
        out.append(
            Dispute(
                topic.topic,
                topic.label_zh,
                topic.fields,
                tuple(dict.fromkeys(articles)),
                tuple(found[topic.topic]),
            )
        )
    return out
