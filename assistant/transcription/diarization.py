"""Who spoke when on a mono recording: voice embeddings of the transcript's segments, clustered.

Most interview recorders are mono, so speakers cannot come from channels. Each transcript
segment is cut into chunks of at most 3 s, every chunk gets a GE2E voice embedding
(speaker_encoder), chunks are clustered by average-linkage agglomeration on cosine similarity
(deterministic: no random initialisation, ties go to the lower index), and each segment takes
the speaker of most of its speech. Roles then come from an enrolled voiceprint of an officer
(问, a second officer 问2) or, without one, from question cues in the text (the officer asks,
the party answers). Audio arrives window by window, so a 3-hour file is never held at once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.transcription.speaker_encoder import SAMPLE_RATE, VoiceEncoder, normalize_volume

MAX_CHUNK_SECONDS = 3.0
# Chunks shorter than this give unstable embeddings: they are not clustered, only assigned to
# the nearest speaker afterwards.
MIN_CLUSTER_SECONDS = 1.0
# Average cosine similarity below which two groups of chunks are different speakers. Measured
# on the real speakers of shared/corpora/speech (docs/benchmarks.md): 1–3 s chunks of one
# speaker average 0.67–0.71, of two different speakers 0.42–0.52.
CLUSTER_THRESHOLD = 0.60
MAX_SPEAKERS = 4
# At most this many chunks (20–30 minutes of speech) are clustered; the others are assigned.
MAX_CLUSTERED = 600
# An enrolled voiceprint (mean of many chunks) against a speaker's centroid: the same speaker
# scores well above this, a different one below (see docs/benchmarks.md).
VOICEPRINT_THRESHOLD = 0.75

_QUESTION_END = re.compile(r"[？?吗呢]\W*$")
_QUESTION_WORDS = re.compile(
    r"请问|请你|请您|请说明|请提供|请如实|是否|有没有|是不是|对不对|能否|可否|为什么|为何|"
    r"什么|怎么|多少|哪些|哪里|哪个|几个|几次|何时|谁"
)


@dataclass(frozen=True)
class SpeechSpan:
    """A transcript segment as diarization sees it: its time and its text."""

    index: int
    start: float
    end: float
    text: str = ""


@dataclass(frozen=True)
class Chunk:
    segment: int  # SpeechSpan.index
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Voiceprint:
    """An officer's enrolled voice: the mean embedding of their speech in earlier recordings."""

    user_id: int
    embedding: np.ndarray
    case_officer: bool = False  # the case's handling officer leads: 问 rather than 问2


@dataclass(frozen=True)
class Diarization:
    labels: dict[int, str]  # segment index → 问 / 问2 / 答 / 答2 / 说话人N
    speakers: int
    method: str  # voiceprint | question_cues | none
    chunk_labels: tuple[tuple[float, float, str], ...] = ()
    matched_users: dict[str, int] = field(default_factory=dict)
    similarities: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict[str, object]:
        """What the transcript's metadata keeps about how speakers were found."""
        return {
            "speakers": self.speakers,
            "method": self.method,
            "matched_users": self.matched_users,
            "cluster_threshold": CLUSTER_THRESHOLD,
            "voiceprint_threshold": VOICEPRINT_THRESHOLD,
        }


def chunks_for(spans: Sequence[SpeechSpan], max_seconds: float = MAX_CHUNK_SECONDS) -> list[Chunk]:
    """Each span cut into equal chunks of at most `max_seconds` (a speaker change inside a long
    segment then shows as chunks of different speakers)."""
    out: list[Chunk] = []
    for span in spans:
        length = span.end - span.start
        if length <= 0:
            continue
        parts = max(1, int(np.ceil(length / max_seconds - 1e-9)))
        edges = np.linspace(span.start, span.end, parts + 1)
        out += [Chunk(span.index, float(a), float(b)) for a, b in itertools.pairwise(edges)]
    return out


def embed_chunks(
    encoder: VoiceEncoder,
    chunks: Sequence[Chunk],
    windows: Iterable[tuple[float, np.ndarray]],
) -> np.ndarray:
    """(len(chunks), 256) embeddings; `windows` are (start seconds, mono 16 kHz samples) in
    order, and a chunk is cut from the window holding its middle."""
    out = np.zeros((len(chunks), 256), dtype=np.float32)
    order = sorted(range(len(chunks)), key=lambda i: (chunks[i].start, chunks[i].end))
    pos = 0
    for start, samples in windows:
        end = start + len(samples) / SAMPLE_RATE
        batch: list[int] = []
        while pos < len(order) and (chunks[order[pos]].start + chunks[order[pos]].end) / 2 < end:
            batch.append(order[pos])
            pos += 1
        wavs = []
        for i in batch:
            a = max(0, round((chunks[i].start - start) * SAMPLE_RATE))
            b = min(len(samples), round((chunks[i].end - start) * SAMPLE_RATE))
            wavs.append(normalize_volume(samples[a : max(b, a + 1)].astype(np.float32)))
        if wavs:
            out[batch] = encoder.embed_many(wavs)
    return out


def agglomerate(
    embeddings: np.ndarray,
    threshold: float = CLUSTER_THRESHOLD,
    max_clusters: int = MAX_SPEAKERS,
) -> np.ndarray:
    """Average-linkage clustering on cosine similarity: merge the most similar pair of groups
    until none is above `threshold` and at most `max_clusters` remain. Labels are numbered in
    order of first appearance, so the result depends on nothing but the input."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    sim = (unit @ unit.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        flat = int(np.argmax(sim))  # merged-away rows are -inf; ties go to the lower index
        a, b = divmod(flat, n)
        if sim[a, b] < threshold and alive.sum() <= max_clusters:
            break
        a, b = min(a, b), max(a, b)
        # Lance–Williams update for average linkage
        merged = (sim[a] * sizes[a] + sim[b] * sizes[b]) / (sizes[a] + sizes[b])
        sim[a], sim[:, a] = merged, merged
        sim[a, a] = -np.inf
        sizes[a] += sizes[b]
        members[a] += members.pop(b)
        alive[b] = False
        sim[b], sim[:, b] = -np.inf, -np.inf
    labels = np.empty(n, dtype=int)
    for root, items in members.items():
        labels[items] = root
    _, first = np.unique(labels, return_index=True)
    renumber = {labels[i]: k for k, i in enumerate(sorted(first))}
    return np.array([renumber[x] for x in labels], dtype=int)


def is_question(text: str) -> bool:
    """A 问句 by its ending (？/吗/呢) or an interrogative or request word (请问, 是否, 为什么…)."""
    text = text.strip()
    return bool(_QUESTION_END.search(text) or _QUESTION_WORDS.search(text))


def assign_roles(
    speaker_of: dict[int, int],
    spans: Sequence[SpeechSpan],
    centroids: np.ndarray,
    voiceprints: Sequence[Voiceprint] = (),
) -> tuple[dict[int, str], str, dict[str, int], dict[str, float]]:
    """Cluster → 问/问2/答/答2 by enrolled voiceprints, else by question cues; else 说话人N
    (one voice and no voiceprint: no label, the draft shows the turns as 〔未标注〕).

    Returns (cluster → label, method, label → matched user id, label → similarity)."""
    clusters = list(range(len(centroids)))
    seconds = {c: 0.0 for c in clusters}
    questions = {c: 0 for c in clusters}
    counts = {c: 0 for c in clusters}
    for span in spans:
        c = speaker_of.get(span.index)
        if c is None:
            continue
        seconds[c] += span.end - span.start
        counts[c] += 1
        questions[c] += is_question(span.text)
    officers: list[int] = []
    matched: dict[int, int] = {}
    sims: dict[int, float] = {}
    method = "none"
    if voiceprints and clusters:
        pairs = sorted(
            (
                (-float(centroids[c] @ vp.embedding), not vp.case_officer, c, k)
                for c in clusters
                for k, vp in enumerate(voiceprints)
            ),
        )
        used_prints: set[int] = set()
        for neg, _, c, k in pairs:
            if -neg < VOICEPRINT_THRESHOLD or c in matched or k in used_prints:
                continue
            matched[c] = voiceprints[k].user_id
            sims[c] = round(-neg, 4)
            used_prints.add(k)
        # the case's handling officer first, then other enrolled officers by similarity
        officers = sorted(
            matched,
            key=lambda c: (
                not any(vp.case_officer and vp.user_id == matched[c] for vp in voiceprints),
                -sims[c],
            ),
        )
        if officers:
            method = "voiceprint"
    if not officers and len(clusters) >= 2:
        share = {c: questions[c] / counts[c] if counts[c] else 0.0 for c in clusters}
        ranked = sorted(clusters, key=lambda c: (-share[c], -seconds[c], c))
        lowest = share[ranked[-1]]
        if share[ranked[0]] > lowest:
            # a second voice that mostly asks too is a second officer, if a party remains
            officers = [ranked[0]] + [
                c for c in ranked[1:-1] if share[c] >= 0.5 and share[c] > lowest
            ]
            method = "question_cues"
    labels: dict[int, str] = {}
    for n, c in enumerate(officers):
        labels[c] = "问" if n == 0 else f"问{n + 1}"
    if officers:
        parties = sorted((c for c in clusters if c not in labels), key=lambda c: (-seconds[c], c))
        for n, c in enumerate(parties):
            labels[c] = "答" if n == 0 else f"答{n + 1}"
    elif len(clusters) >= 2:  # voices told apart, roles not: neutral names to relabel
        for c in clusters:
            labels[c] = f"说话人{c + 1}"
    return (
        labels,
        method,
        {labels[c]: u for c, u in matched.items()},
        {labels[c]: s for c, s in sims.items()},
    )


def cluster_chunks(
    chunks: Sequence[Chunk], embeddings: np.ndarray, threshold: float = CLUSTER_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """(chunk → cluster, centroids): long chunks clustered, short ones joined to the nearest."""
    long_ = [i for i, c in enumerate(chunks) if c.seconds >= MIN_CLUSTER_SECONDS]
    if not long_:  # nothing long enough to tell voices apart: one speaker
        long_ = list(range(len(chunks)))
    if len(long_) > MAX_CLUSTERED:
        # agglomeration is cubic: a long recording clusters an evenly spread sample of its
        # chunks (the same sample every time), the rest join the nearest speaker below
        long_ = [long_[round(k)] for k in np.linspace(0, len(long_) - 1, MAX_CLUSTERED)]
    labels = np.full(len(chunks), -1, dtype=int)
    labels[long_] = agglomerate(embeddings[long_], threshold)
    k = int(labels.max()) + 1 if len(chunks) else 0
    centroids = np.zeros((k, embeddings.shape[1] if embeddings.ndim == 2 else 256))
    for c in range(k):
        weights = np.array([chunks[i].seconds for i in long_ if labels[i] == c])
        vectors = embeddings[[i for i in long_ if labels[i] == c]]
        mean = (vectors * weights[:, None]).sum(axis=0)
        centroids[c] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    rest = np.where(labels < 0)[0]
    if len(rest) and k:
        labels[rest] = np.argmax(embeddings[rest] @ centroids.T, axis=1)
    return labels, centroids


def diarize(
    encoder: VoiceEncoder,
    spans: Sequence[SpeechSpan],
    windows: Iterable[tuple[float, np.ndarray]],
    voiceprints: Sequence[Voiceprint] = (),
    *,
    threshold: float = CLUSTER_THRESHOLD,
) -> Diarization:
    """Label every span with a role; spans must lie inside the audio the windows cover."""
    chunks = chunks_for(spans)
    if not chunks:
        return Diarization(labels={}, speakers=0, method="none")
    embeddings = embed_chunks(encoder, chunks, windows)
    chunk_cluster, centroids = cluster_chunks(chunks, embeddings, threshold)
    votes: dict[int, dict[int, float]] = {}
    for chunk, c in zip(chunks, chunk_cluster, strict=True):
        own = votes.setdefault(chunk.segment, {})
        own[int(c)] = own.get(int(c), 0.0) + chunk.seconds
    speaker_of = {
        index: max(sorted(ballot), key=lambda c: ballot[c]) for index, ballot in votes.items()
    }
    roles, method, users, sims = assign_roles(speaker_of, spans, centroids, voiceprints)
    return Diarization(
        labels={i: roles[c] for i, c in speaker_of.items() if c in roles},
        speakers=len(centroids),
        method=method,
        chunk_labels=tuple(
            (c.start, c.end, roles.get(int(k), f"说话人{int(k) + 1}"))
            for c, k in zip(chunks, chunk_cluster, strict=True)
        ),
        matched_users=users,
        similarities=sims,
    )


def voiceprint_of(
    encoder: VoiceEncoder, spans: Sequence[SpeechSpan], windows: Iterable[tuple[float, np.ndarray]]
) -> tuple[np.ndarray, float]:
    """An enrolment: the duration-weighted mean embedding of one speaker's spans, and seconds."""
    chunks = chunks_for(spans)
    embeddings = embed_chunks(encoder, chunks, windows)
    weights = np.array([c.seconds for c in chunks])
    total = float(weights.sum())
    mean = (embeddings * weights[:, None]).sum(axis=0) if len(chunks) else np.zeros(256)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).astype(np.float32), round(total, 3)


def diarization_error_rate(
    reference: Sequence[tuple[float, float, str]],
    hypothesis: Sequence[tuple[float, float, str]],
    *,
    collar: float = 0.0,
    step: float = 0.01,
) -> dict[str, float]:
    """DER = (missed speech + false alarm + speaker confusion) / reference speech, on 10 ms
    frames, with the best one-to-one mapping of hypothesis to reference speakers; `collar`
    seconds around each reference boundary are not scored (NIST uses 0.25 s)."""
    end = max([e for _, e, _ in [*reference, *hypothesis]], default=0.0)
    n = int(np.ceil(end / step)) + 1
    ref_names = sorted({s for _, _, s in reference})
    hyp_names = sorted({s for _, _, s in hypothesis})
    ref = np.full(n, -1)
    hyp = np.full(n, -1)
    scored = np.ones(n, dtype=bool)
    for a, b, s in reference:
        ref[round(a / step) : round(b / step)] = ref_names.index(s)
        for t in (a, b):
            scored[max(0, round((t - collar) / step)) : round((t + collar) / step)] = False
    for a, b, s in hypothesis:
        hyp[round(a / step) : round(b / step)] = hyp_names.index(s)
    ref, hyp = ref[scored], hyp[scored]
    speech = int((ref >= 0).sum())
    missed = int(((ref >= 0) & (hyp < 0)).sum())
    false_alarm = int(((ref < 0) & (hyp >= 0)).sum())
    both = (ref >= 0) & (hyp >= 0)
    overlap = np.zeros((len(hyp_names), len(ref_names)))
    np.add.at(overlap, (hyp[both], ref[both]), 1)
    best = 0.0
    size = max(len(hyp_names), len(ref_names))
    padded = np.zeros((size, size))
    padded[: len(hyp_names), : len(ref_names)] = overlap
    for perm in itertools.permutations(range(size)):
        best = max(best, float(padded[list(range(size)), list(perm)].sum()))
    confusion = int(both.sum()) - int(best)
    total = speech or 1
    return {
        "der": round((missed + false_alarm + confusion) / total, 4),
        "missed": round(missed / total, 4),
        "false_alarm": round(false_alarm / total, 4),
        "confusion": round(confusion / total, 4),
        "speech_seconds": round(speech * step, 2),
    }
