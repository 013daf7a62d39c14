"""One generated enforcement year shared by the statistics tests (seeded once, in bulk)."""

from __future__ import annotations

import re
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


def in_dialect(sql: str, dialect: str) -> str:
    """A test's SQLite statement in PostgreSQL's spelling (JSON member, China date)."""
    if dialect != "postgresql":
        return sql
    sql = re.sub(r"json_extract\(([\w.]+), '\$\.([\w.]+)'\)", r"(\1->>'\2')", sql)
    sql = re.sub(
        r"date\(([\w.]+), '\+8 hours'\)", r"to_char(\1 + interval '8 hours', 'YYYY-MM-DD')", sql
    )
    return re.sub(r"date\(([\w.]+)\)", r"to_char(\1, 'YYYY-MM-DD')", sql)


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
