"""Shared fixtures: isolated data dirs, the real bundled models, the real demo corpus."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import MODELS_DIR, PROJECT_ROOT, Settings

# the session's throwaway PostgreSQL and Redis servers (postgres_url, postgres_database, redis_url)
pytest_plugins = ["tests.pgserver", "tests.redisserver"]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The project-written statute summaries and fictional cases the retrieval tests were written
# against; the product ships the official texts and SAT bulletins (corpora/SOURCES.md).
DEMO_CORPUS = FIXTURES / "demo_corpus"
# ../shared/corpora next to the checkout (CI); TAXASSIST_SHARED_CORPORA for a worktree elsewhere.
SHARED_CORPORA = Path(
    os.environ.get("TAXASSIST_SHARED_CORPORA") or PROJECT_ROOT.parent / "shared" / "corpora"
).resolve()
# A valid 统一社会信用代码 (check character computed per GB 32100-2015) for a fictional company.
DEMO_USCC = "91150100MA0N7Y2K37"
DEMO_PASSWORD = "taxassist-test-pw"

requires_shared = pytest.mark.skipif(
    not SHARED_CORPORA.is_dir(),
    reason=f"real corpora not found at {SHARED_CORPORA} (CI has them; see README)",
)


# TAXASSIST_TEST_DATABASE=postgresql runs every test's database on PostgreSQL (`make
# test-postgres`): make_settings then gives each settings a new empty database on this worker's
# throwaway server (tests/pgserver.py). sqlite (the default) keeps taxassist.db in the data dir.
TEST_DATABASES = ("sqlite", "postgresql")
TEST_DATABASE = os.environ.get("TAXASSIST_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"

sqlite_only = pytest.mark.sqlite_only


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DATABASE not in TEST_DATABASES:
        raise pytest.UsageError(
            f"TAXASSIST_TEST_DATABASE={TEST_DATABASE!r}: expected " + " or ".join(TEST_DATABASES)
        )
    if TEST_DATABASE == "postgresql":
        from tests.pgserver import missing_server_reason

        reason = missing_server_reason()
        if reason and not os.environ.get("TAXASSIST_TEST_POSTGRES_URL"):
            raise pytest.UsageError(f"TAXASSIST_TEST_DATABASE=postgresql, but {reason}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under PostgreSQL, skip the tests that are about SQLite itself, with their reason."""
    if TEST_DATABASE != "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite-specific: {why}"))


# Under PostgreSQL, the database of each data dir (as taxassist.db is the one inside it), so
# that settings made again on the same data dir, and the CLI run on it, find the same data.
_DATABASES: dict[Path, str] = {}


def fresh_database_url() -> str | None:
    """None under SQLite; under PostgreSQL a new empty database on this worker's server."""
    if TEST_DATABASE != "postgresql":
        return None
    from tests.pgserver import create_database, worker_server_url

    return create_database(worker_server_url())


def data_dir_database_url(data_dir: Path) -> str | None:
    """The database of `data_dir`: None under SQLite (taxassist.db inside it), else its
    PostgreSQL database, made on first use."""
    if TEST_DATABASE != "postgresql":
        return None
    key = Path(data_dir).resolve()
    if key not in _DATABASES:
        _DATABASES[key] = fresh_database_url() or ""
    return _DATABASES[key]


def clone_database(source_dir: Path, target_dir: Path) -> None:
    """Give `target_dir` a copy of `source_dir`'s database (no connection may be open on it):
    taxassist.db copied, or a PostgreSQL database made from it as template."""
    target_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir_database_url(source_dir)
    if source is None:
        shutil.copy(source_dir / "taxassist.db", target_dir / "taxassist.db")
        return
    from tests.pgserver import create_database, worker_server_url

    _DATABASES[target_dir.resolve()] = create_database(worker_server_url(), template=source)


def database_env(data_dir: Path) -> dict[str, str]:
    """Environment for a CLI or server process on `data_dir`: its database URL, if any."""
    url = data_dir_database_url(data_dir)
    return {"TAXASSIST_DATABASE_URL": url} if url else {}


def database_url_for(sqlite_file: Path) -> str:
    """A new database for a test that opens one directly: the SQLite file `sqlite_file`, or a
    new empty database on this worker's PostgreSQL server."""
    return fresh_database_url() or f"sqlite:///{sqlite_file}"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings on `data_dir` with the bundled models and the demo corpus; the database is
    data_dir's (SQLite or PostgreSQL, per TAXASSIST_TEST_DATABASE) unless given."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "models_dir": MODELS_DIR,
        "corpora": "",
        "demo_corpus_dir": DEMO_CORPUS,
        "demo_password": DEMO_PASSWORD,
        "seed_demo_users": True,
    }
    values.update(overrides)
    if "database_url" not in overrides:
        values["database_url"] = data_dir_database_url(data_dir)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def shared_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo index built once per test session; copied into each data dir that needs it."""
    from assistant.knowledge import KnowledgeBase, get_embedder

    settings = make_settings(tmp_path_factory.mktemp("index-build"))
    KnowledgeBase.build(settings.corpus_dirs, settings.index_dir, get_embedder(settings.embedder))
    return settings.index_dir


@pytest.fixture
def interview_wav() -> Path:
    return FIXTURES / "interview_zh.wav"


@pytest.fixture
def case_payload() -> dict[str, object]:
    return demo_case_payload()


def demo_case_payload() -> dict[str, object]:
    """A late-filing case of a fictional company, as an officer would enter it."""
    return {
        "taxpayer": {
            "name": "示例商贸有限公司",
            "id_number": DEMO_USCC,
            "kind": "organisation",
            "address": "内蒙古自治区呼和浩特市示例区示例路1号",
            "legal_representative": "张示例",
        },
        "violation": "late_filing",
        "facts": "该公司2025年3月增值税纳税申报逾期45日，经责令限期改正后于2025年5月30日补办申报，"
        "补缴税款12,000元。",
        "violation_date": "2025-04-15",
        "days_overdue": 45,
        "tax_unpaid": "12000.00",
        "occurrences": 1,
        "first_violation": False,
        "corrected_in_time": True,
        "harm": "minor",
        "evidence": ["纳税申报记录", "责令限期改正通知书及送达回证"],
    }


def queue_demo_recording(services: Any, audio: Path) -> tuple[int, int, int]:
    """Create the demo case as the demo officer and upload `audio` to it (the job is queued,
    not run): (case id, recording id, job id). Shared by the resume test and asr_long_bench."""
    from datetime import date

    from sqlalchemy import select

    from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
    from assistant.db.models import User

    payload = demo_case_payload()
    workflow = CaseWorkflow(services)
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()
    case = workflow.create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput(**payload["taxpayer"]),  # type: ignore[arg-type]
            violation="late_filing",
            facts=str(payload["facts"]),
            violation_date=date(2025, 4, 15),
            days_overdue=45,
            corrected_in_time=True,
        ),
    )
    with audio.open("rb") as handle:
        upload = workflow.add_recording(
            officer, case.id, handle, filename=audio.name, content_type="audio/wav"
        )
    return case.id, upload.recording.id, upload.job.id


def case_ready_to_close(services: Any, officer: Any, facts: str) -> int:
    """A new case of the demo officer's, put straight into 执行 (the stage close accepts)."""
    from datetime import date

    from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
    from assistant.db.models import Case

    payload = demo_case_payload()
    case = CaseWorkflow(services).create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput(**payload["taxpayer"]),  # type: ignore[arg-type]
            violation="tax_evasion",
            facts=facts,
            violation_date=date(2025, 4, 15),
        ),
    )
    with services.db.session() as session:
        row = session.get(Case, case.id)
        assert row is not None
        row.status = "executing"
    return case.id


def iter_files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file()) if root.exists() else iter(())
