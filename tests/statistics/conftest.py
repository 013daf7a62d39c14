"""One generated enforcement year shared by the statistics tests (seeded once, in bulk)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.services import Services, build_services, seed_demo_users
from tests.conftest import make_settings
from tests.statistics.seed import Planted, seed_year


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    services: Services
    planted: Planted
    data_dir: Path


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    data_dir = tmp_path_factory.mktemp("stats") / "data"
    settings = make_settings(data_dir)
    services = build_services(settings)
    services.db.migrate()
    seed_demo_users(services)
    with services.db.session() as session:
        planted = seed_year(session)
    yield Seeded(settings, services, planted, data_dir)
    services.db.engine.dispose()
