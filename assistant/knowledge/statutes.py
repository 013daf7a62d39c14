"""Versioned statute texts parsed from the Markdown corpus (`<dir>/statutes/*.md`).

Every article keeps its law, version date and source file, so a cited rule can always be traced
back to the text it came from. Version rule (a simplification): a version applies from its
effective date — the date in `effective_dates.yaml` when listed there, else the version date in
the file name — until the next version's effective date or the law's repeal date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import InvalidInput, NotFound
from assistant.legal import ARTICLE_NUMERAL_CHARS, StatuteId, parse_integer, short_law_name

#: Version date used for statute files whose name and preamble carry no date (stated choice).
UNDATED_VERSION = date(1997, 10, 1)
EFFECTIVE_DATES_FILE = "effective_dates.yaml"

_FILE_DATE = re.compile(r"^(?P<name>.+?)[(（](?P<date>\d{4}-\d{2}-\d{2})[)）]$")
_TEXT_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_ARTICLE = re.compile(
    rf"^第(?P<num>[{ARTICLE_NUMERAL_CHARS}0-9]+)条(?:之(?P<sub>[{ARTICLE_NUMERAL_CHARS}]+))?"
    r"[ \u3000]+(?P<body>.*)$"
)
_HEADING = re.compile(r"^(?P<hashes>#+)\s*(?P<text>.+?)\s*$")
_DIVISION = re.compile(
    rf"^(?P<num>第[{ARTICLE_NUMERAL_CHARS}0-9]+)(?P<kind>[编章节])\s*(?P<rest>.*)$"
)
_FOOTNOTE = re.compile(r"^[①②③④⑤⑥⑦⑧⑨⑩]")
INFO_END = "<!-- INFO END -->"


#: A 项 opens its line with its number in brackets: （一） or (一).
_ITEM_LINE = re.compile(rf"^[（(][{ARTICLE_NUMERAL_CHARS}]+[）)]")


@dataclass(frozen=True)
class Article:
    """One article of one version of one law, with its provenance."""

    id: str
    law: str
    title: str
    article: int
    version_date: date
    chapter: str | None
    paragraphs: tuple[str, ...]
    source: str
    sub: int | None = None  # 之一 / 之二 articles inserted by amendments (刑法第二百零五条之一)
    #: set when this is one 款 (and 项) of the article, as `StatuteBook.get` returns a 款 id
    paragraph: int | None = None
    item: int | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def statute_id(self) -> StatuteId:
        """The provision this text is: the article, or the 款/项 it was narrowed to."""
        return StatuteId(self.law, self.article, self.sub, self.paragraph, self.item)

    def clauses(self) -> list[tuple[str, tuple[str, ...]]]:
        """The article's 款, each with its 项: a line opening with （一） is a 项 of the 款 above.

        The corpus keeps one line per 款 and one per 项, so lines alone do not count 款.
        """
        out: list[tuple[str, list[str]]] = []
        for line in self.paragraphs:
            if _ITEM_LINE.match(line) and out:
                out[-1][1].append(line)
            else:
                out.append((line, []))
        return [(lead, tuple(items)) for lead, items in out]

    def provision(self, paragraph: int, item: int | None = None) -> Article | None:
        """This article narrowed to one 款 (with its 项), or to one 项 after its 款's opening
        words (a 项 read alone loses the conditions the 款 sets); None when it has no such 款/项.
        """
        clauses = self.clauses()
        if not 1 <= paragraph <= len(clauses):
            return None
        lead, items = clauses[paragraph - 1]
        if item is None:
            return replace(self, paragraphs=(lead, *items), paragraph=paragraph, item=None)
        if not 1 <= item <= len(items):
            return None
        return replace(self, paragraphs=(lead, items[item - 1]), paragraph=paragraph, item=item)

    @property
    def versioned_id(self) -> str:
        return f"{self.id}@{self.version_date.isoformat()}"

    @property
    def label(self) -> str:
        """第六十三条 / 第六十三条第二款: what this text is, as decisions cite it."""
        return self.statute_id.reference


def _normalize_division(text: str) -> str:
    m = _DIVISION.match(text)
    if m is None:
        return re.sub(r"\s+", "", text)
    rest = re.sub(r"\s+", "", m.group("rest"))
    return f"{m.group('num')}{m.group('kind')} {rest}".strip()


def _latest_text_date(lines: Iterable[str]) -> date | None:
    found: list[date] = []
    for line in lines:
        for y, mo, d in _TEXT_DATE.findall(line):
            try:
                found.append(date(int(y), int(mo), int(d)))
            except ValueError:
                continue
    return max(found) if found else None


def parse_statute_file(path: Path) -> list[Article]:
    """Parse one statute Markdown file into articles (款 = the lines until the next 第X条)."""
    raw = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in raw.splitlines()]
    stem = path.stem
    file_match = _FILE_DATE.match(stem)
    title: str | None = None
    for line in lines:
        if line.startswith("# "):
            title = re.sub(r"\s+", "", line[2:])
            break
    if title is None:
        base = file_match.group("name") if file_match else stem
        title = re.split(r"[_(（]", base, maxsplit=1)[0]
    if INFO_END in lines:
        split = lines.index(INFO_END)
        preamble, body = lines[:split], lines[split + 1 :]
    else:
        preamble, body = [], lines
    if file_match is not None:
        version = date.fromisoformat(file_match.group("date"))
    else:
        version = _latest_text_date(preamble) or UNDATED_VERSION
    law = short_law_name(title)

    articles: list[Article] = []
    chapter: str | None = None
    current: dict[str, Any] | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            articles.append(
                Article(
                    id=StatuteId(law, current["article"], current["sub"]).article_id,
                    law=law,
                    title=title,
                    article=current["article"],
                    version_date=version,
                    chapter=current["chapter"],
                    paragraphs=tuple(current["paragraphs"]),
                    source=str(path),
                    sub=current["sub"],
                )
            )
        current = None

    for line in body:
        if not line or line == INFO_END:
            continue
        heading = _HEADING.match(line)
        if heading is not None:
            close()
            text = heading.group("text")
            division = _DIVISION.match(text)
            if len(heading.group("hashes")) == 1:
                continue  # the title line of files without an INFO END marker
            if division is None:
                chapter = _normalize_division(text)  # 附则 / 附件: closes the chapter
            elif division.group("kind") == "编":
                chapter = None
            elif division.group("kind") == "章":
                chapter = _normalize_division(text)
            continue  # 节 headings keep the chapter
        m = _ARTICLE.match(line)
        if m is not None:
            close()
            sub = m.group("sub")
            current = {
                "article": parse_integer(m.group("num")),
                "sub": None if sub is None else parse_integer(sub),
                "chapter": chapter,
                "paragraphs": [m.group("body").strip()],
            }
            continue
        if current is not None and not _FOOTNOTE.match(line):
            current["paragraphs"].append(line)
    close()
    return articles


@dataclass
class _Version:
    law: str
    title: str
    version_date: date
    source: str
    articles: dict[str, Article] = field(default_factory=dict)


@dataclass(frozen=True)
class EffectiveRule:
    """One row of effective_dates.yaml, with its source."""

    law: str
    version_date: date
    effective_date: date
    new_law: bool
    source: str


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(
            "invalid_effective_dates", f"生效日期表日期格式错误：{where}", details={"at": where}
        ) from exc


def load_effective_dates(path: Path) -> tuple[list[EffectiveRule], dict[str, tuple[date, str]]]:
    """Read effective_dates.yaml: version effective dates and repeal dates, each with a source."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise InvalidInput("invalid_effective_dates", f"生效日期表格式错误：{path}")
    rules: list[EffectiveRule] = []
    for row in data.get("versions") or []:
        try:
            rules.append(
                EffectiveRule(
                    law=str(row["law"]),
                    version_date=_as_date(row["version_date"], f"{path}:{row.get('law')}"),
                    effective_date=_as_date(row["effective_date"], f"{path}:{row.get('law')}"),
                    new_law=bool(row.get("new_law", False)),
                    source=str(row["source"]),
                )
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(
                "invalid_effective_dates", f"生效日期表条目不完整：{path}（{exc}）"
            ) from exc
    repealed: dict[str, tuple[date, str]] = {}
    for row in data.get("repealed") or []:
        try:
            repealed[str(row["law"])] = (
                _as_date(row["repealed_on"], f"{path}:{row.get('law')}"),
                str(row["source"]),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(
                "invalid_effective_dates", f"生效日期表条目不完整：{path}（{exc}）"
            ) from exc
    return rules, repealed


class StatuteBook:
    """All versions of all laws; picks the version in force on a date."""

    def __init__(
        self,
        versions: Iterable[_Version] = (),
        *,
        effective: Iterable[EffectiveRule] = (),
        repealed: dict[str, tuple[date, str]] | None = None,
    ) -> None:
        self._laws: dict[str, dict[date, _Version]] = {}
        for version in versions:
            self._laws.setdefault(version.law, {})[version.version_date] = version
        self._effective = {(r.law, r.version_date): r for r in effective}
        self._repealed = dict(repealed or {})

    @classmethod
    def load(cls, corpus_dirs: Sequence[Path]) -> StatuteBook:
        """Read `<dir>/statutes/*.md` of each dir; a later dir's law+version replaces earlier."""
        parsed: list[tuple[Path, list[Article], bool]] = []
        effective: dict[tuple[str, date], EffectiveRule] = {}
        repealed: dict[str, tuple[date, str]] = {}
        for corpus in corpus_dirs:
            folder = Path(corpus) / "statutes"
            if not folder.is_dir():
                continue
            table = folder / EFFECTIVE_DATES_FILE
            if table.is_file():
                rules, gone = load_effective_dates(table)
                effective.update({(r.law, r.version_date): r for r in rules})
                repealed.update(gone)
            for path in sorted(folder.glob("*.md")):
                if path.name.lower() == "readme.md":
                    continue
                arts = parse_statute_file(path)
                if arts:
                    parsed.append((path, arts, _FILE_DATE.match(path.stem) is not None))
        # An undated excerpt whose articles all appear in another file of the same law is a
        # duplicate (刑法_第201-212条 vs 刑法 全文): skip it.
        keep: list[tuple[Path, list[Article]]] = []
        for path, arts, dated in parsed:
            if not dated:
                mine = {(a.article, a.sub) for a in arts}
                law = arts[0].law
                if any(
                    other is not path
                    and other_arts[0].law == law
                    and len(other_arts) > len(arts)
                    and mine <= {(a.article, a.sub) for a in other_arts}
                    for other, other_arts, _ in parsed
                ):
                    continue
            keep.append((path, arts))
        versions: dict[tuple[str, date], _Version] = {}
        for path, arts in keep:
            first = arts[0]
            version = _Version(first.law, first.title, first.version_date, str(path))
            for art in arts:
                version.articles.setdefault(art.id, art)  # first occurrence wins in one file
            versions[(first.law, first.version_date)] = version  # later dir wins
        return cls(versions.values(), effective=effective.values(), repealed=repealed)

    # -- versions -------------------------------------------------------------------------
    def effective_date(self, law: str, version_date: date) -> date:
        """The date a version applies from (effective-date table, else its version date)."""
        rule = self._effective.get((law, version_date))
        return rule.effective_date if rule else version_date

    def repealed_on(self, law: str) -> date | None:
        entry = self._repealed.get(law)
        return entry[0] if entry else None

    def _sorted_versions(self, law: str) -> list[_Version]:
        return sorted(
            self._laws.get(law, {}).values(),
            key=lambda v: (self.effective_date(law, v.version_date), v.version_date),
        )

    def version_in_force(self, law: str, on: date | None = None) -> date | None:
        """Version date of `law` applying on `on` (None: latest); None when not in force.

        Before the earliest version in the corpus, the earliest version is used (the corpus
        holds no older text), unless the table marks it `new_law` (the law did not exist yet).
        """
        versions = self._sorted_versions(law)
        if not versions:
            return None
        if on is None:
            return versions[-1].version_date
        repealed = self.repealed_on(law)
        if repealed is not None and on >= repealed:
            return None
        applicable = [v for v in versions if self.effective_date(law, v.version_date) <= on]
        if applicable:
            return applicable[-1].version_date
        earliest = versions[0]
        rule = self._effective.get((law, earliest.version_date))
        if rule is not None and rule.new_law:
            return None
        return earliest.version_date

    # -- lookups --------------------------------------------------------------------------
    def get(self, statute_id: str, on: date | None = None) -> Article:
        """The provision `statute_id` names in the version in force on `on`: the article, or
        its 款 (`发票管理办法:34:2`) or 项 (`Article.provision`); NotFound when it has none.

        A `@YYYY-MM-DD` suffix names the version explicitly and overrides `on`.
        """
        ref = StatuteId.parse(statute_id)
        versions = self._laws.get(ref.law)
        if not versions:
            raise NotFound(
                "statute_not_found",
                f"法规库中没有《{ref.law}》，无法找到法条 {statute_id}",
                details={"statute_id": statute_id, "law": ref.law},
            )
        if ref.version is not None:
            chosen: date | None = ref.version if ref.version in versions else None
        else:
            chosen = self.version_in_force(ref.law, on)
        if chosen is None:
            when = "指定版本" if ref.version else (on.isoformat() if on else "最新版本")
            raise NotFound(
                "statute_not_found",
                f"《{ref.law}》在{when}时没有有效的文本（尚未施行、已废止或版本不存在）：{statute_id}",
                details={
                    "statute_id": statute_id,
                    "on": on.isoformat() if on else None,
                    "versions": [d.isoformat() for d in sorted(versions)],
                },
            )
        article = versions[chosen].articles.get(ref.article_id)
        if article is None:
            raise NotFound(
                "statute_not_found",
                f"《{ref.law}》（{chosen.isoformat()}版）中没有{ref.label}",
                details={"statute_id": statute_id, "version": chosen.isoformat()},
            )
        if ref.paragraph is None:
            return article
        narrowed = article.provision(ref.paragraph, ref.item)
        if narrowed is None:
            raise NotFound(
                "statute_not_found",
                f"《{ref.law}》（{chosen.isoformat()}版）{ref.label}中没有{ref.reference}"
                f"（该条共{len(article.clauses())}款）",
                details={"statute_id": statute_id, "version": chosen.isoformat()},
            )
        return narrowed

    def articles(self, on: date | None = None) -> list[Article]:
        """One version per law: the version in force on `on` (None: the latest of each law)."""
        out: list[Article] = []
        for law in sorted(self._laws):
            chosen = self.version_in_force(law, on)
            if chosen is not None:
                out.extend(self._laws[law][chosen].articles.values())
        return out

    def all_articles(self) -> list[Article]:
        """Every article of every version (what the dense index holds)."""
        return [
            art
            for law in sorted(self._laws)
            for version in self._sorted_versions(law)
            for art in version.articles.values()
        ]

    def by_versioned_id(self, versioned_id: str) -> Article | None:
        ref = StatuteId.parse(versioned_id)
        if ref.version is None:
            return None
        version = self._laws.get(ref.law, {}).get(ref.version)
        return None if version is None else version.articles.get(ref.article_id)

    def laws(self) -> dict[str, list[date]]:
        return {law: sorted(v) for law, v in sorted(self._laws.items())}

    def full_title(self, law: str) -> str:
        versions = self._laws.get(law)
        if not versions:
            raise NotFound("statute_not_found", f"法规库中没有《{law}》", details={"law": law})
        return versions[max(versions)].title

    def source_of(self, law: str, version_date: date) -> str:
        """The file a version came from (provenance)."""
        version = self._laws.get(law, {}).get(version_date)
        if version is None:
            raise NotFound("statute_not_found", f"法规库中没有《{law}》{version_date}版")
        return version.source

    def __len__(self) -> int:
        return sum(len(v.articles) for vs in self._laws.values() for v in vs.values())
