"""The LLM narrative wired into drafting by settings, against a fake OpenAI server.

A faithful narrative is printed and the document's provenance says so; one with a planted
wrong fact is refused by the guard, the template is printed, and the provenance says why.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.drafting.generators import generator_from_settings
from tests.api.apphelpers import login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings
from tests.drafting.test_drafting_narrative import FakeOpenAI

FAITHFUL = (
    "经查，示例商贸有限公司2025年3月增值税纳税申报逾期45日，经税务机关责令限期改正后，"
    "于2025年5月30日补办申报，并补缴税款12,000元。"
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path, fake: FakeOpenAI
) -> Iterator[TestClient]:
    settings: Settings = make_settings(
        tmp_path_factory.mktemp("narrative") / "data",
        narrative_backend="openai",
        narrative_url=fake.url,
        narrative_model="qwen2.5-7b-instruct",
        narrative_timeout_s=5,
    )
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


def _draft(client: TestClient) -> dict[str, object]:
    officer = login(client, "officer")
    case = client.post("/cases", json=demo_case_payload(), headers=officer)
    case_id = case.json()["id"]
    assert client.post(f"/cases/{case_id}/discretion", headers=officer).status_code == 201
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_faithful_llm_narrative_is_printed(client: TestClient, fake: FakeOpenAI) -> None:
    fake.reply, fake.status = FAITHFUL, 200
    document = _draft(client)
    assert "经税务机关责令限期改正后" in str(document["text"])
    source, generator, why = document["provenance"]["narrative"]  # type: ignore[index]
    assert (source, generator) == ("llm", "openai") and fake.url in why
    assert fake.requests[-1]["body"]["model"] == "qwen2.5-7b-instruct"


def test_planted_fact_falls_back_to_template(client: TestClient, fake: FakeOpenAI) -> None:
    fake.reply = FAITHFUL.replace("逾期45日", "逾期60日").replace("12,000元", "21,000元")
    document = _draft(client)
    text = str(document["text"])
    assert "逾期60日" not in text and "21,000元" not in text
    assert "经责令限期改正后于2025年5月30日补办申报" in text  # the officer's facts
    source, generator, why = document["provenance"]["narrative"]  # type: ignore[index]
    assert (source, generator) == ("template", "openai") and "21,000元" in why, why


def test_server_down_falls_back_to_template(client: TestClient, fake: FakeOpenAI) -> None:
    fake.reply, fake.status = FAITHFUL, 500
    document = _draft(client)
    source, _, why = document["provenance"]["narrative"]  # type: ignore[index]
    assert source == "template" and "generator_unavailable" in why


def test_default_settings_use_the_template(tmp_path: Path) -> None:
    generator, why = generator_from_settings(make_settings(tmp_path))
    assert generator is None and "template" in why
    missing = make_settings(tmp_path, narrative_backend="transformers")
    assert generator_from_settings(missing)[0] is None
    gone = make_settings(
        tmp_path, narrative_backend="transformers", narrative_model_dir=tmp_path / "nope"
    )
    generator, why = generator_from_settings(gone)
    assert generator is None and "不可用" in why
