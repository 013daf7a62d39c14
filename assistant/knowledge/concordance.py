"""Article concordance between consecutive versions of a law, computed from the statute texts.

Laws get renumbered when amended: 发票管理办法 2019 第二十二条 (虚开) is 第二十一条 in the 2023
version, and the 2023 第二十二条 is a different rule (税控装置). A case cites articles without a
version, in the numbering of the version it applied; before its vote counts for a query on
another date, the cited article must be carried over to the version in force then.

The pairs come from the texts themselves: Dice similarity of the character-bigram sets of the
normalised article bodies (whitespace and punctuation removed, so 全角/半角 brackets do not
matter), assigned one-to-one best pair first (ties: the smaller shift in number, then the
article order); a pair below SIMILARITY_THRESHOLD is no pair, so the article is deleted (old
side) or new (new side). Only laws with two or more versions are compared, lazily, once per
book. On the real 发票管理办法 texts every kept pair scores >= 0.67 and the two deleted articles'
best candidates <= 0.25 (docs/benchmarks.md): the threshold sits between. Wrong candidates of
articles that have their true pair can score up to 0.57; the one-to-one assignment rejects them.

A citation may also name its version
(《发票管理办法》（财政部令第6号发布，国务院令第709号修订）第二十二条):
`version_markers.yaml` maps the 国务院令 numbers of a law's revisions to their dates; a year
marker (（2019年修订）) needs no table. Such a marker overrides the case's date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import pairwise
from typing import Any

from assistant.knowledge.statutes import Article, StatuteBook
from assistant.legal import StatuteId, bundled_markers
from assistant.legal import load_version_markers as load_version_markers

#: Entries of the in-force memo before it is cleared (query dates are unbounded in a server).
_MEMO_LIMIT = 4096
#: Below this Dice similarity two articles are not the same rule (see the module docstring).
SIMILARITY_THRESHOLD = 0.5

_NON_WORD = re.compile(r"[\W_]+")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
#: 国务院令第587号、第709号、第764号修订: every number of the list
_ORDER = re.compile(r"国务院令(第?\d+号(?:[、，,和及与]第?\d+号)*)")
_YEAR = re.compile(
    r"(\d{4})年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:第[一二三四五六七八九十]+次)?(?:修订|修正|修改|版)"
)


def normalise(text: str) -> str:
    """Article text without whitespace and punctuation (either width)."""
    return _NON_WORD.sub("", text.translate(_FULLWIDTH_DIGITS))


def bigrams(text: str) -> frozenset[str]:
    norm = normalise(text)
    if len(norm) < 2:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i : i + 2] for i in range(len(norm) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """2|A∩B| / (|A|+|B|): 1 for the same text, 0 for nothing shared."""
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(frozen=True)
class ArticlePair:
    """One article and its counterpart in the next version (ids without version)."""

    old_id: str
    new_id: str
    similarity: float

    @property
    def renumbered(self) -> bool:
        return self.old_id != self.new_id


@dataclass(frozen=True)
class VersionStep:
    """The concordance from one version of a law to the next."""

    law: str
    old_version: date
    new_version: date
    pairs: tuple[ArticlePair, ...]
    deleted: tuple[str, ...]  # old articles without a counterpart
    added: tuple[str, ...]  # new articles without a counterpart
    unchanged: int  # pairs with the same number and the same normalised text

    @cached_property
    def forward(self) -> dict[str, str]:
        return {p.old_id: p.new_id for p in self.pairs}

    @cached_property
    def backward(self) -> dict[str, str]:
        return {p.new_id: p.old_id for p in self.pairs}


def match_articles(
    old: Iterable[Article], new: Iterable[Article], *, threshold: float = SIMILARITY_THRESHOLD
) -> tuple[list[ArticlePair], list[str], list[str]]:
    """One-to-one pairs, best similarity first; (pairs, deleted old ids, added new ids).

    All pairs are scored (n·m set intersections: ~2,000 for 发票管理办法, 200,000 for a law of
    450 articles, well under a second)."""
    olds, news = list(old), list(new)
    old_grams = [bigrams(a.text) for a in olds]
    new_grams = [bigrams(a.text) for a in news]
    candidates: list[tuple[float, int, int, int]] = []
    for i, (oa, og) in enumerate(zip(olds, old_grams, strict=True)):
        for j, (na, ng) in enumerate(zip(news, new_grams, strict=True)):
            sim = dice(og, ng)
            if sim >= threshold:
                candidates.append((-sim, abs(oa.article - na.article), i, j))
    candidates.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs: list[ArticlePair] = []
    for neg_sim, _, i, j in candidates:
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        pairs.append(ArticlePair(olds[i].id, news[j].id, round(-neg_sim, 4)))
    order = {a.id: i for i, a in enumerate(olds)}
    pairs.sort(key=lambda p: order[p.old_id])
    deleted = [a.id for i, a in enumerate(olds) if i not in used_old]
    added = [a.id for j, a in enumerate(news) if j not in used_new]
    return pairs, deleted, added


class Concordance:
    """Carries article ids between the versions of the laws in one StatuteBook."""

    def __init__(
        self,
        book: StatuteBook,
        *,
        threshold: float = SIMILARITY_THRESHOLD,
        markers: Mapping[str, Mapping[int, date]] | None = None,
    ) -> None:
        self.book = book
        self.threshold = threshold
        self.markers = {law: dict(m) for law, m in (markers or {}).items()}
        self._versions: dict[str, list[date]] = {}
        for law, dates in book.laws().items():
            order = {d: (book.effective_date(law, d), d) for d in dates}
            self._versions[law] = sorted(dates, key=order.__getitem__)
        self._steps: dict[str, list[VersionStep]] = {}
        self._marked: dict[tuple[str, str], date | None] = {}
        self._force: dict[tuple[str, date | None], date | None] = {}

    def versions(self, law: str) -> list[date]:
        """The law's version dates in the order they applied."""
        return list(self._versions.get(law, []))

    def steps(self, law: str) -> list[VersionStep]:
        """Consecutive-version concordances of `law` (empty for a law with one version)."""
        if law not in self._steps:
            dates = self._versions.get(law, [])
            by_version: dict[date, list[Article]] = {d: [] for d in dates}
            if len(dates) > 1:
                for art in self.book.all_articles():
                    if art.law == law:
                        by_version[art.version_date].append(art)
            steps: list[VersionStep] = []
            for old_v, new_v in pairwise(dates):
                old, new = by_version[old_v], by_version[new_v]
                pairs, deleted, added = match_articles(old, new, threshold=self.threshold)
                old_text = {a.id: normalise(a.text) for a in old}
                new_text = {a.id: normalise(a.text) for a in new}
                unchanged = sum(
                    1
                    for p in pairs
                    if not p.renumbered and old_text[p.old_id] == new_text[p.new_id]
                )
                steps.append(
                    VersionStep(
                        law, old_v, new_v, tuple(pairs), tuple(deleted), tuple(added), unchanged
                    )
                )
            self._steps[law] = steps
        return self._steps[law]

    def marked_version(self, law: str, note: str | None) -> date | None:
        """The version a citation's parenthetical note names, if it names one in this book.

        Order numbers come from version_markers.yaml, years from the note (（2019年修订）); several
        revisions listed -> the latest. A marked revision not in the book resolves like a date:
        the latest version published on or before it, else the earliest (the book's rule)."""
        if not note:
            return None
        text = re.sub(r"\s+", "", note)
        known = self.markers.get(law, {})
        orders = [int(n) for run in _ORDER.findall(text) for n in re.findall(r"\d+", run)]
        dates = [known[n] for n in orders if n in known]
        dates += [date(int(y), 12, 31) for y in _YEAR.findall(text)]
        versions = self._versions.get(law)
        if not dates or not versions:
            return None
        marked = max(dates)
        published = sorted(versions)
        before = [v for v in published if v <= marked]
        return before[-1] if before else published[0]

    def cited_version(
        self, law: str, cited_on: date | None, version_note: str | None = None
    ) -> date | None:
        """The version a citation applied: its marker if any, else the version in force on
        `cited_on` (None: the latest)."""
        if version_note:
            key = (law, version_note)
            if key not in self._marked:
                self._marked[key] = self.marked_version(law, version_note)
            if self._marked[key] is not None:
                return self._marked[key]
        return self._in_force(law, cited_on)

    def _in_force(self, law: str, on: date | None) -> date | None:
        """book.version_in_force, memoised (the recommender asks once per cited article)."""
        key = (law, on)
        if key not in self._force:
            if len(self._force) > _MEMO_LIMIT:
                self._force.clear()
            self._force[key] = self.book.version_in_force(law, on)
        return self._force[key]

    def _holds(self, law: str, version: date, article_id: str) -> bool:
        """Whether that version of the law has the article (read off the concordance)."""
        steps = self.steps(law)
        at = self._versions[law].index(version)
        if at < len(steps):
            return article_id in steps[at].forward or article_id in steps[at].deleted
        return article_id in steps[at - 1].backward or article_id in steps[at - 1].added

    def translate(
        self,
        article_id: str,
        cited_on: date | None,
        to_on: date | None,
        *,
        version_note: str | None = None,
    ) -> str | None:
        """`article_id` as cited on `cited_on` -> the id of the same rule in the version in force
        on `to_on` (None dates: the latest version); None when the rule has no counterpart there.

        An `@YYYY-MM-DD` suffix or a `version_note` names the cited version explicitly. 款/项
        suffixes are kept (the concordance is per article). Ids the concordance knows nothing
        about (a law with one version, not in force on either date, an article its cited version
        lacks) come back unchanged, without the version suffix.
        """
        ref = StatuteId.parse(article_id)
        suffix = "".join(f":{n}" for n in (ref.paragraph, ref.item) if n is not None)
        plain = ref.article_id + suffix
        versions = self._versions.get(ref.law, [])
        if len(versions) < 2:
            return plain
        source = ref.version if ref.version in versions else None
        source = source or self.cited_version(ref.law, cited_on, version_note)
        target = self._in_force(ref.law, to_on)
        if source is None or target is None or source == target:
            return plain
        if not self._holds(ref.law, source, ref.article_id):
            return plain
        steps = self.steps(ref.law)
        at, goal = versions.index(source), versions.index(target)
        current: str | None = ref.article_id
        while at != goal and current is not None:
            if goal > at:
                current = steps[at].forward.get(current)
                at += 1
            else:
                current = steps[at - 1].backward.get(current)
                at -= 1
        return None if current is None else current + suffix

    def summary(self) -> list[dict[str, Any]]:
        """Per consecutive-version pair of every multi-version law: what was mapped."""
        rows: list[dict[str, Any]] = []
        for law, dates in self._versions.items():
            if len(dates) < 2:
                continue
            for step in self.steps(law):
                rows.append(
                    {
                        "law": law,
                        "from": step.old_version.isoformat(),
                        "to": step.new_version.isoformat(),
                        "old_articles": len(step.pairs) + len(step.deleted),
                        "new_articles": len(step.pairs) + len(step.added),
                        "mapped": len(step.pairs),
                        "unchanged": step.unchanged,
                        "amended_same_number": sum(not p.renumbered for p in step.pairs)
                        - step.unchanged,
                        "renumbered": sum(p.renumbered for p in step.pairs),
                        "deleted": list(step.deleted),
                        "added": list(step.added),
                        "min_similarity": min((p.similarity for p in step.pairs), default=None),
                    }
                )
        return rows


_ATTRIBUTE = "_taxassist_concordance"


def concordance_for(book: StatuteBook) -> Concordance:
    """The concordance of `book` with the bundled version markers, built once per book.

    Kept on the book itself (not in a global map), so it lives and goes with the book."""
    found = getattr(book, _ATTRIBUTE, None)
    if not isinstance(found, Concordance):
        found = Concordance(book, markers=bundled_markers())
        setattr(book, _ATTRIBUTE, found)
    return found
