"""Issue 3 over HTTP: a two-channel interview becomes 问/答 turns; transcript exports."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from tests.api.apphelpers import (
    assert_error,
    login,
    prepare_data_dir,
    running_app,
    upload_recording,
)
from tests.conftest import demo_case_payload, make_settings
from tests.fixtures.make_formats import main as make_formats
from tests.transcription.test_exports import parse_cues

pytestmark = pytest.mark.e2e


def test_stereo_upload_exports_as_subtitles_and_interview_record(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    settings = make_settings(tmp_path / "data")
    prepare_data_dir(settings, shared_index_dir)
    stereo = next(p for p in make_formats(tmp_path / "formats") if p.name.endswith("stereo.wav"))
    with running_app(settings) as client:
        officer = login(client, "officer")
        case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
        recording = upload_recording(client, officer, case_id, stereo)
        assert recording["model"]["channels"] == 2
        # the case's names lead the vocabulary prompt
        assert recording["model"]["initial_prompt"].startswith("示例商贸有限公司、张示例、")
        speakers = [s["speaker"] for s in recording["segments"]]
        assert speakers[0] == "问" and "答" in speakers
        rid = recording["id"]

        srt = client.get(f"/recordings/{rid}/transcript?format=srt", headers=officer)
        assert srt.status_code == 200
        cues = parse_cues(srt.text, sep=",", header=None)
        assert len(cues) == len(recording["segments"])
        assert cues[0][2].startswith("问：")
        vtt = client.get(f"/recordings/{rid}/transcript?format=vtt", headers=officer)
        assert len(parse_cues(vtt.text, sep=".", header="WEBVTT")) == len(cues)

        record = client.get(f"/recordings/{rid}/transcript?format=record_docx", headers=officer)
        assert record.status_code == 200
        assert "attachment" in record.headers["content-disposition"]
        lines = [p.text for p in docx.Document(io.BytesIO(record.content)).paragraphs]
        # the document type's layout, as a draft
        assert lines[1] == "询问（调查）笔录（草稿，须经承办人核对）"
        assert any(line.startswith("被询问人：张示例（") for line in lines)
        assert any(line.startswith("被询问单位：示例商贸有限公司") for line in lines)
        turns = [line[:2] for line in lines if line.startswith(("问：", "答："))]
        assert turns[:2] == ["问：", "答："]
        assert any(line.startswith("被询问人（签名）") for line in lines)

        # officer corrections: new versions, the machine transcript stays
        machine_text = recording["segments"][0]["text"]
        fixed = client.patch(
            f"/recordings/{rid}/segments/0",
            json={"text": "请问贵公司为什么没有按期申报？"},
            headers=officer,
        )
        assert fixed.status_code == 200, fixed.text
        assert fixed.json()[0]["text"] == "请问贵公司为什么没有按期申报？"
        assert fixed.json()[0]["version"] == 1
        relabel = client.post(
            f"/recordings/{rid}/speakers", json={"old": "答", "new": "被询问人"}, headers=officer
        )
        assert relabel.status_code == 200, relabel.text
        assert "答" not in {s["speaker"] for s in relabel.json()}
        versions = client.get(f"/recordings/{rid}/segments/0/versions", headers=officer).json()
        assert [v["version"] for v in versions] == [0, 1]
        assert versions[0]["text"] == machine_text
        current = client.get(f"/recordings/{rid}/transcript?format=txt", headers=officer).text
        assert current.startswith("问：请问贵公司为什么没有按期申报？")
        assert "被询问人：" in current
        original = client.get(
            f"/recordings/{rid}/transcript?format=txt&version=machine", headers=officer
        ).text
        assert original.startswith(f"问：{machine_text}") and "被询问人" not in original
        # word timestamps: the machine's words in the JSON export, gone where the text changed
        machine_json = client.get(
            f"/recordings/{rid}/transcript?format=json&version=machine", headers=officer
        ).json()
        first = machine_json["segments"][0]
        assert first["words"] and "".join(w["word"] for w in first["words"]) == first["text"]
        assert all(first["start"] <= w["start"] <= w["end"] <= first["end"] for w in first["words"])
        current_json = client.get(f"/recordings/{rid}/transcript?format=json", headers=officer)
        assert current_json.json()["segments"][0]["words"] == []
        other = login(client, "officer2")
        assert_error(
            client.patch(f"/recordings/{rid}/segments/0", json={"text": "x"}, headers=other),
            403,
            "not_case_officer",
        )
        assert_error(
            client.patch(f"/recordings/{rid}/segments/99", json={"text": "x"}, headers=officer),
            404,
            "segment_not_found",
        )

        bad = client.get(f"/recordings/{rid}/transcript?format=pdf", headers=officer)
        assert bad.status_code == 422
        assert_error(
            client.get("/recordings/999/transcript?format=srt", headers=officer),
            404,
            "recording_not_found",
        )
