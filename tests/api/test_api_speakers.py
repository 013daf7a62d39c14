"""Mono recordings over HTTP: speakers told apart by voice, the officer by an enrolled
voiceprint, and a 询问笔录 draft with 问/答 turns and a filled header."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.api.apphelpers import (
    assert_error,
    login,
    prepare_data_dir,
    running_app,
    upload_recording,
)
from tests.conftest import SHARED_CORPORA, demo_case_payload, make_settings, requires_shared

pytestmark = [pytest.mark.e2e, requires_shared]


def _write_m4a(path: Path, samples: np.ndarray, creation_time: str) -> Path:
    """Mono AAC in MP4 with the creation-time tag a phone or recorder writes."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    with av.open(str(path), "w", format="ipod") as container:
        container.metadata["creation_time"] = creation_time
        stream = container.add_stream("aac", rate=16000, layout="mono")
        stream.codec_context.open()
        resampler = av.AudioResampler(
            format="fltp", layout="mono", rate=16000, frame_size=stream.codec_context.frame_size
        )
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 16000, 0, Fraction(1, 16000)
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _truth(segment: dict[str, Any], reference: tuple[tuple[float, float, str], ...]) -> str | None:
    """The reference speaker of most of a segment, if one speaker has most of it."""
    overlap: dict[str, float] = {}
    for a, b, who in reference:
        overlap[who] = overlap.get(who, 0.0) + max(
            0.0, min(b, segment["end"]) - max(a, segment["start"])
        )
    who, seconds = max(overlap.items(), key=lambda kv: kv[1])
    return who if seconds >= 0.6 * (segment["end"] - segment["start"]) else None


def test_mono_interview_gets_roles_by_voice_and_a_filled_header(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    from assistant.transcription.speaker_mix import build_mix, load_speakers

    voices = load_speakers(SHARED_CORPORA / "speech")
    first = build_mix(voices, ["S0764", "S0724"], turns=10, seed=11, pause=(1.0, 1.6))
    second = build_mix(voices, ["wenet", "S0764"], turns=8, seed=12, pause=(1.0, 1.6))
    # No glossary prompt: on these non-tax sentences whisper-base sometimes echoes it as a
    # phantom segment over several turns (decoding's problem, not what is tested here).
    settings = make_settings(
        tmp_path / "data", interview_place="示例市税务局稽查局第一询问室", asr_domain_prompt=False
    )
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        officer = login(client, "officer")
        me = client.get("/auth/me", headers=officer).json()
        case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
        assert_error(
            client.get("/auth/me/voiceprint", headers=officer), 404, "voiceprint_not_found"
        )

        # 1. nobody enrolled, nobody asks a question: two voices, neutral names
        rec1 = upload_recording(
            client,
            officer,
            case_id,
            _write_m4a(tmp_path / "a.m4a", first.samples, "2025-06-02T06:00:00Z"),
            content_type="audio/mp4",
        )
        diar = rec1["model"]["diarization"]
        assert diar["speakers"] == 2, diar
        by_truth: dict[str, set[str]] = {}
        for s in rec1["segments"]:
            who = _truth(s, first.reference)
            if who:
                by_truth.setdefault(who, set()).add(s["speaker"])
        assert len(by_truth["S0764"]) == 1 and len(by_truth["S0724"]) == 1, by_truth
        assert by_truth["S0764"] != by_truth["S0724"]
        mine = next(iter(by_truth["S0764"]))

        # 2. the officer marks their own voice and enrols it
        rid1 = rec1["id"]
        relabel = client.post(
            f"/recordings/{rid1}/speakers", json={"old": mine, "new": "本人"}, headers=officer
        )
        assert relabel.status_code == 200, relabel.text
        assert_error(
            client.post(
                f"/recordings/{rid1}/voiceprint", json={"speaker": "无此人"}, headers=officer
            ),
            422,
            "voiceprint_too_short",
        )
        other = login(client, "officer2")
        assert_error(
            client.post(f"/recordings/{rid1}/voiceprint", json={"speaker": "本人"}, headers=other),
            403,
            "not_case_officer",
        )
        enrolled = client.post(
            f"/recordings/{rid1}/voiceprint", json={"speaker": "本人"}, headers=officer
        )
        assert enrolled.status_code == 201, (enrolled.text, rec1["segments"])
        assert enrolled.json()["user_id"] == me["id"] and enrolled.json()["seconds"] >= 8
        assert client.get("/auth/me/voiceprint", headers=officer).json()["recording_id"] == rid1

        # 3. a later mono recording: the officer's voice is 问, the other voice 答
        rec2 = upload_recording(
            client,
            officer,
            case_id,
            _write_m4a(tmp_path / "b.m4a", second.samples, "2025-06-03T01:05:00Z"),
            content_type="audio/mp4",
        )
        assert rec2["model"]["diarization"]["method"] == "voiceprint"
        assert rec2["model"]["diarization"]["matched_users"] == {"问": me["id"]}
        judged = [(s["speaker"], _truth(s, second.reference)) for s in rec2["segments"]]
        judged = [(label, who) for label, who in judged if who]
        assert len(judged) >= 4, rec2["segments"]
        assert all(label == ("问" if who == "S0764" else "答") for label, who in judged), judged

        record = client.get(
            f"/recordings/{rec2['id']}/transcript?format=record_txt", headers=officer
        )
        assert record.status_code == 200
        lines = record.text.splitlines()
        # header: the recorder's time (UTC 01:05 is 9:05 in China), place, people
        # (the document type's layout: authority, title, then the header)
        assert lines[2].startswith("询问时间：2025年6月3日9时05分至9时0"), lines[2]
        assert "待核" not in lines[2]
        assert lines[3] == "询问地点：示例市税务局稽查局第一询问室"
        assert lines[4].startswith(f"询问人：{me['display_name']}")
        assert lines[5] == f"记录人：{me['display_name']}"
        assert lines[6].startswith("被询问人：张示例（")
        assert any(line.startswith("录音：b.m4a，时长") for line in lines)
        turns = [line[:2] for line in lines if line.startswith(("问：", "答："))]
        assert "问：" in turns and turns.count("答：") >= 1
        assert not any(line.startswith("〔未标注〕") for line in lines)

        assert client.delete("/auth/me/voiceprint", headers=officer).status_code == 204
        assert_error(
            client.get("/auth/me/voiceprint", headers=officer), 404, "voiceprint_not_found"
        )
