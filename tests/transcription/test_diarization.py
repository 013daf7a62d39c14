"""Speaker turns on mono audio: clustering, roles, DER, and real speakers mixed."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.registry import ModelRegistry, load_manifest, package_installed
from assistant.transcription import diarization as d
from assistant.transcription.speaker_encoder import VoiceEncoder
from assistant.transcription.speaker_mix import build_mix, load_speakers
from tests.conftest import SHARED_CORPORA, make_settings, requires_shared


def _vectors(centres: list[int], per: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = np.eye(8)
    return np.stack([basis[c] + rng.normal(0, noise, 8) for c in centres for _ in range(per)])


def test_agglomerate_finds_separated_groups_in_order_of_appearance() -> None:
    x = _vectors([3, 1, 3, 5], per=4, noise=0.05)
    labels = d.agglomerate(x, threshold=0.6)
    assert labels.tolist() == [0] * 4 + [1] * 4 + [0] * 4 + [2] * 4
    # same input, same output; a permutation of the rows permutes the grouping only
    assert d.agglomerate(x, threshold=0.6).tolist() == labels.tolist()
    perm = np.random.default_rng(1).permutation(len(x))
    again = d.agglomerate(x[perm], threshold=0.6)
    assert len(set(again.tolist())) == 3
    assert all(
        (again[i] == again[j]) == (labels[perm[i]] == labels[perm[j]])
        for i in range(16)
        for j in range(16)
    )


def test_agglomerate_threshold_and_cap() -> None:
    x = _vectors([0, 1, 2, 3, 4, 5], per=2, noise=0.01)
    assert len(set(d.agglomerate(x, threshold=0.6, max_clusters=10).tolist())) == 6
    assert len(set(d.agglomerate(x, threshold=0.6, max_clusters=4).tolist())) == 4
    assert set(d.agglomerate(x, threshold=-1.0).tolist()) == {0}
    assert d.agglomerate(np.zeros((0, 8))).tolist() == []


def test_chunks_cut_long_segments_evenly() -> None:
    chunks = d.chunks_for([d.SpeechSpan(0, 0.0, 7.0), d.SpeechSpan(1, 8.0, 9.0)])
    assert [(c.segment, round(c.start, 2), round(c.end, 2)) for c in chunks] == [
        (0, 0.0, 2.33),
        (0, 2.33, 4.67),
        (0, 4.67, 7.0),
        (1, 8.0, 9.0),
    ]


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("请问你公司三月的增值税为什么没有按期申报？", True),
        ("你是公司的法定代表人吗", True),
        ("发票是谁开的", True),
        ("当时的账由哪个会计负责呢", True),
        ("因为会计离职了，我们后来补报了。", False),
        ("是的，我是法定代表人。", False),
        ("一二线城市虽然也处于调整中", False),
    ],
)
def test_question_cues(text: str, question: bool) -> None:
    assert d.is_question(text) is question


def _spans(texts: list[str]) -> list[d.SpeechSpan]:
    return [d.SpeechSpan(i, i * 3.0, i * 3.0 + 2.5, t) for i, t in enumerate(texts)]


def test_roles_by_question_cues() -> None:
    spans = _spans(["你叫什么名字？", "张示例。", "公司是否按期申报？", "没有，会计离职了。"])
    roles, method, users, _ = d.assign_roles({0: 1, 1: 0, 2: 1, 3: 0}, spans, np.eye(2))
    assert roles == {1: "问", 0: "答"} and method == "question_cues" and users == {}
    # nobody asks: no guess, neutral labels for the officer to relabel
    flat = _spans(["好的。", "是的。"])
    roles, method, _, _ = d.assign_roles({0: 0, 1: 1}, flat, np.eye(2))
    assert roles == {0: "说话人1", 1: "说话人2"} and method == "none"
    # one voice, nobody enrolled: nothing to say about roles, the turns stay unlabelled
    roles, method, _, _ = d.assign_roles({0: 0, 1: 0}, spans[:2], np.eye(1))
    assert roles == {} and method == "none"


def test_roles_by_voiceprint_beat_question_cues() -> None:
    centroids = np.eye(3)[:3]
    spans = _spans(["你叫什么名字？", "张示例。", "请说明情况。"])
    prints = [
        d.Voiceprint(user_id=7, embedding=np.eye(3)[1], case_officer=True),
        d.Voiceprint(user_id=9, embedding=np.eye(3)[2]),
    ]
    # cluster 0 asks the questions, but the enrolled officers' voices are clusters 1 and 2
    roles, method, users, sims = d.assign_roles({0: 0, 1: 1, 2: 2}, spans, centroids, prints)
    assert roles == {1: "问", 2: "问2", 0: "答"}
    assert method == "voiceprint" and users == {"问": 7, "问2": 9} and sims["问"] == 1.0
    # a voiceprint nobody in the recording matches falls back to the cues
    far = [d.Voiceprint(user_id=7, embedding=-np.eye(3)[0], case_officer=True)]
    roles, method, _, _ = d.assign_roles({0: 0, 1: 1, 2: 2}, spans, centroids, far)
    assert method == "question_cues" and roles == {0: "问", 2: "问2", 1: "答"}


def test_der_counts_miss_false_alarm_and_confusion() -> None:
    ref = [(0.0, 2.0, "a"), (3.0, 5.0, "b")]
    assert d.diarization_error_rate(ref, [(0.0, 2.0, "x"), (3.0, 5.0, "y")])["der"] == 0.0
    swapped = d.diarization_error_rate(ref, [(0.0, 2.0, "y"), (3.0, 5.0, "x")])
    assert swapped["der"] == 0.0  # labels are mapped, names do not matter
    one = d.diarization_error_rate(ref, [(0.0, 2.0, "x"), (3.0, 5.0, "x")])
    assert one["confusion"] == 0.5 and one["der"] == 0.5
    miss = d.diarization_error_rate(ref, [(0.0, 2.0, "x"), (5.5, 6.5, "y")])
    assert miss["missed"] == 0.5 and miss["false_alarm"] == 0.25 and miss["der"] == 0.75
    # a collar forgives boundary slop
    late = [(0.2, 2.0, "x"), (3.0, 5.2, "y")]
    assert d.diarization_error_rate(ref, late)["der"] > 0
    assert d.diarization_error_rate(ref, late, collar=0.25)["der"] == 0.0


requires_weights = pytest.mark.skipif(
    not package_installed(load_manifest()["speaker"]),
    reason="resemblyzer's pretrained.pt not installed (make setup)",
)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> VoiceEncoder:
    return ModelRegistry(make_settings(tmp_path_factory.mktemp("d"))).get("speaker")  # type: ignore[no-any-return]


@requires_shared
@requires_weights
def test_real_speakers_mixed_are_told_apart(encoder: VoiceEncoder) -> None:
    """Two and three real speakers of shared/corpora/speech, alternating turns with pauses:
    every turn goes to the right speaker (DER 0 on the reference turns)."""
    voices = load_speakers(SHARED_CORPORA / "speech")
    assert len(voices) >= 4, sorted(voices)
    for speakers, seed in ((["S0764", "f5tts"], 1), (["S0724", "IT0011", "wenet"], 2)):
        mix = build_mix(voices, speakers, turns=9, seed=seed)
        spans = [d.SpeechSpan(i, a, b) for i, (a, b, _) in enumerate(mix.reference)]
        result = d.diarize(encoder, spans, [(0.0, mix.samples)])
        assert result.speakers == len(speakers)
        der = d.diarization_error_rate(mix.reference, result.chunk_labels)
        assert der["der"] == 0.0, (speakers, der)
        # same audio, same labels
        assert d.diarize(encoder, spans, [(0.0, mix.samples)]).labels == result.labels


@requires_shared
@requires_weights
def test_an_enrolled_officer_is_found_in_another_recording(encoder: VoiceEncoder) -> None:
    """Enrol S0764 from one mix; in a different mix (other crops, gains, partner) the cluster of
    that voice is 问 and the other speaker 答, though nobody's text is a question."""
    voices = load_speakers(SHARED_CORPORA / "speech")
    first = build_mix(voices, ["S0764", "S0724"], turns=6, seed=3)
    officer_turns = [
        d.SpeechSpan(i, a, b) for i, (a, b, s) in enumerate(first.reference) if s == "S0764"
    ]
    embedding, seconds = d.voiceprint_of(encoder, officer_turns, [(0.0, first.samples)])
    assert seconds > 5
    second = build_mix(voices, ["wenet", "S0764"], turns=8, seed=4)
    spans = [d.SpeechSpan(i, a, b, "好的") for i, (a, b, _) in enumerate(second.reference)]
    prints = [d.Voiceprint(user_id=1, embedding=embedding, case_officer=True)]
    result = d.diarize(encoder, spans, [(0.0, second.samples)], prints)
    assert result.method == "voiceprint" and result.matched_users == {"问": 1}
    truth = {i: s for i, (_, _, s) in enumerate(second.reference)}
    assert all((label == "问") == (truth[i] == "S0764") for i, label in result.labels.items())
    assert set(result.labels.values()) == {"问", "答"}


def test_a_long_recording_clusters_a_sample_and_assigns_the_rest() -> None:
    """3 hours of 3 s chunks: more than MAX_CLUSTERED, still every chunk placed, quickly."""
    rng = np.random.default_rng(5)
    centres = np.eye(64)[:2]
    who = rng.integers(0, 2, 3600)
    x = (centres[who] + rng.normal(0, 0.05, (3600, 64))).astype(np.float32)
    chunks = [d.Chunk(i, i * 3.0, i * 3.0 + 2.5) for i in range(3600)]
    labels, centroids = d.cluster_chunks(chunks, x)
    assert len(centroids) == 2 and d.MAX_CLUSTERED < 3600
    first = labels[0]
    assert all((labels[i] == first) == (who[i] == who[0]) for i in range(3600))
