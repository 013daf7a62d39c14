"""A fresh install reads the official statute texts it ships (corpora/statutes, SOURCES.md), not
project-written summaries, and reading an article never waits for the retrieval index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.config import BUNDLED_CORPUS, Settings
from assistant.services import build_services, setup
from tests.api.apphelpers import assert_error, login, running_app
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(
        tmp_path_factory.mktemp("statute-book") / "data", demo_corpus_dir=BUNDLED_CORPUS
    )
    services = build_services(settings)
    setup(services, with_index=False)
    services.db.engine.dispose()
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with running_app(settings) as client:
        yield client


def test_articles_are_the_official_texts_in_the_version_in_force(
    client: TestClient, settings: Settings
) -> None:
    officer = login(client, "officer")
    lost = client.get("/statutes/发票管理办法:34:2", params={"date": "2024-03-01"}, headers=officer)
    assert lost.status_code == 200, lost.text
    assert lost.json()["version_date"] == "2023-07-20"
    assert lost.json()["text"] == "丢失发票或者擅自损毁发票的，依照前款规定处罚。"
    agent = client.get("/statutes/税收征收管理法:63:2", headers=officer).json()
    assert agent["text"].startswith("扣缴义务人采取前款所列手段，不缴或者少缴已扣、已收税款")
    # The criminal law ships too (the old summaries covered five tax laws only).
    crime = client.get("/statutes/刑法:205", headers=officer)
    assert crime.status_code == 200, crime.text
    assert crime.json()["text"].startswith("虚开增值税专用发票或者虚开用于骗取出口退税")
    assert_error(client.get("/statutes/刑法:999", headers=officer), 404, "statute_not_found")
    assert not Path(settings.index_dir).exists()  # no index was built to read an article
