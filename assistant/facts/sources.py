"""Where a proposed fact was read: one shape for a transcript segment, a document line, a
recorded 陈述申辩 or the case's own facts text.

Why one shape: the officer, the signed record and the UI must be able to go back to the exact
words a value came from whatever kind of evidence held them, and document text (page and box
from OCR or a text layer) plugs in later without changing the proposer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from assistant.errors import InvalidInput

SourceKind = Literal["recording", "document", "statement", "case_facts"]
SOURCE_KINDS: tuple[str, ...] = ("recording", "document", "statement", "case_facts")
# Speaker labels of the party in a transcript (assistant.transcription.diarization).
PARTY_SPEAKERS = frozenset({"答", "答2"})
OFFICER_SPEAKERS = frozenset({"问", "问2"})


@dataclass(frozen=True)
class SourceRef:
    """One unit of evidence text: a segment (recording id, index, start/end seconds, speaker,
    revision), a document line (document id, page, box), a statement (event seq) or the case's
    facts. `span` is the character range of the words a value was read from, inside `text`."""

    kind: SourceKind
    text: str
    recording_id: int | None = None
    segment_index: int | None = None
    start: float | None = None
    end: float | None = None
    speaker: str | None = None
    version: int | None = None
    document_id: int | None = None
    page: int | None = None
    box: tuple[float, float, float, float] | None = None
    event_seq: int | None = None
    span: tuple[int, int] | None = None
    # when the quoted words were said, from the word timestamps (a segment can hold several
    # sentences, even a question and its answer)
    quote_start: float | None = None
    quote_end: float | None = None

    def with_span(
        self, start: int, end: int, times: tuple[float, float] | None = None
    ) -> SourceRef:
        if times is None:
            return replace(self, span=(start, end))
        return replace(self, span=(start, end), quote_start=times[0], quote_end=times[1])

    @property
    def quote(self) -> str:
        """The words the value was read from (the whole unit when no span is set)."""
        if self.span is None:
            return self.text
        return self.text[self.span[0] : self.span[1]]

    @property
    def by_party(self) -> bool:
        """Said or written by the party: an answer turn, a 陈述申辩; a document is neither."""
        return self.kind == "statement" or (
            self.kind == "recording" and self.speaker in PARTY_SPEAKERS
        )

    def key(self) -> tuple[Any, ...]:
        """What identifies the unit (not the span): equal keys are the same segment/line."""
        return (
            self.kind,
            self.recording_id,
            self.segment_index,
            self.document_id,
            self.page,
            self.box,
            self.event_seq,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in (
            "recording_id",
            "segment_index",
            "start",
            "end",
            "speaker",
            "version",
            "document_id",
            "page",
            "event_seq",
            "quote_start",
            "quote_end",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.box is not None:
            out["box"] = list(self.box)
        out["text"] = self.text
        if self.span is not None:
            out["span"] = {"start": self.span[0], "end": self.span[1]}
            out["quote"] = self.quote
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceRef:
        """A source as a client sends it back with a confirmation; shape errors are 422."""
        if not isinstance(data, dict) or data.get("kind") not in SOURCE_KINDS:
            raise InvalidInput(
                "invalid_source",
                "来源应注明类型：recording（录音片段）、document（文书）、statement（陈述申辩）"
                "或 case_facts（案件事实）。",
                details={"allowed": list(SOURCE_KINDS)},
            )
        span = data.get("span")
        box = data.get("box")
        try:
            return cls(
                kind=data["kind"],
                text=str(data.get("text") or ""),
                recording_id=_int(data.get("recording_id")),
                segment_index=_int(data.get("segment_index")),
                start=_float(data.get("start")),
                end=_float(data.get("end")),
                speaker=data.get("speaker"),
                version=_int(data.get("version")),
                document_id=_int(data.get("document_id")),
                page=_int(data.get("page")),
                box=None
                if box is None
                else (float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                event_seq=_int(data.get("event_seq")),
                span=None if span is None else (int(span["start"]), int(span["end"])),
                quote_start=_float(data.get("quote_start")),
                quote_end=_float(data.get("quote_end")),
            )
        except (TypeError, ValueError, KeyError, IndexError):
            raise InvalidInput(
                "invalid_source", "来源的字段格式不正确。", details={"source": str(data)[:300]}
            ) from None


@dataclass(frozen=True)
class SourceText:
    """A text to read facts from and where it came from: the generic input of the proposer,
    so transcripts, documents and statements all go through one path."""

    text: str
    source: SourceRef
    # (char start, char end, seconds start, seconds end) of each recognised word, when known
    word_times: tuple[tuple[int, int, float, float], ...] = ()

    @classmethod
    def of(
        cls, source: SourceRef, word_times: tuple[tuple[int, int, float, float], ...] = ()
    ) -> SourceText:
        return cls(text=source.text, source=source, word_times=word_times)

    def times(self, start: int, end: int) -> tuple[float, float] | None:
        """When the characters start..end were said (None without word timings)."""
        hit = [(t0, t1) for (c0, c1, t0, t1) in self.word_times if c0 < end and start < c1]
        if not hit:
            return None
        return (min(t for t, _ in hit), max(t for _, t in hit))

    def quote(self, start: int, end: int) -> SourceRef:
        """The source narrowed to the characters start..end."""
        return self.source.with_span(start, end, self.times(start, end))


Box = tuple[float, float, float, float]


def bounding_box(corners: Sequence[Sequence[float]] | None) -> Box | None:
    """(x0, y0, x1, y1) around a stored line box (four corners, `assistant.evidence.Line`)."""
    if not corners:
        return None
    xs = [float(c[0]) for c in corners]
    ys = [float(c[1]) for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def union_box(boxes: Iterable[Box | None]) -> Box | None:
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    return (
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    )


@dataclass(frozen=True)
class DocumentPage(SourceText):
    """One page of an evidence document read as one text (its lines joined by line breaks),
    so a sentence a PDF or a scan breaks over two lines keeps its cue and its figure together;
    a quote narrows the source back to the line(s) it sits on, with their page and box.

    `lines`: (char start, char end, box) of each line in `text`."""

    lines: tuple[tuple[int, int, Box | None], ...] = ()

    @classmethod
    def of_lines(
        cls, document_id: int, page: int | None, lines: Iterable[tuple[str, Box | None]]
    ) -> DocumentPage:
        parts: list[str] = []
        spans: list[tuple[int, int, Box | None]] = []
        at = 0
        for text, box in lines:
            text = text.strip()
            if not text:
                continue
            spans.append((at, at + len(text), box))
            parts.append(text)
            at += len(text) + 1
        text = "\n".join(parts)
        ref = SourceRef(
            kind="document",
            text=text,
            document_id=document_id,
            page=page,
            box=union_box(b for _, _, b in spans),
        )
        return cls(text=text, source=ref, lines=tuple(spans))

    def quote(self, start: int, end: int) -> SourceRef:
        """The line(s) holding characters start..end: their text, their box, the span in it."""
        covered = [line for line in self.lines if line[0] < max(end, start + 1) and start < line[1]]
        if not covered:
            return self.source.with_span(start, end)
        first, last = covered[0][0], covered[-1][1]
        return replace(
            self.source,
            text=self.text[first:last],
            box=union_box(b for _, _, b in covered),
            span=(start - first, end - first),
        )

    def find(self, unit_text: str, box: Box | None) -> int | None:
        """Where a unit a proposal named (its lines' text, and their box when given) starts."""
        for a, _, _ in self.lines:
            if not unit_text or not self.text.startswith(unit_text, a):
                continue
            end = a + len(unit_text)
            held = union_box(b for s, e, b in self.lines if s < end and a < e)
            if box is None or _near(box, held):
                return a
        return None


def _near(asked: Box, stored: Box | None) -> bool:
    return stored is not None and all(abs(x - y) < 0.5 for x, y in zip(asked, stored, strict=True))


def align_words(
    text: str, words: list[tuple[str, float, float]]
) -> tuple[tuple[int, int, float, float], ...]:
    """Char ranges of recognised words in `text` (word text, start s, end s), in order; a word
    not found where expected is skipped, so a corrected text falls back to segment times."""
    out = []
    pos = 0
    for word, t0, t1 in words:
        token = word.strip()
        if not token:
            continue
        at = text.find(token, pos)
        if at < 0 or at - pos > 8:
            continue
        out.append((at, at + len(token), float(t0), float(t1)))
        pos = at + len(token)
    return tuple(out)


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("not an integer")
    return int(value)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("not a number")
    return float(value)
