"""Published index versions: atomic pointer, hard-linked bases, pruning that spares held versions,
and a second process (an API replica) that switches to a new version on its next request.

The replica test uses the hashing embedder (no model: what is under test is publishing and
mapping, not ranking quality), the real FAISS index and the real SQLite database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from assistant.config import MODELS_DIR, PROJECT_ROOT
from assistant.db.models import Case, Taxpayer, User
from assistant.index_versions import POINTER, IndexStore
from assistant.knowledge.index import atomic_write
from assistant.services import build_services
from tests.conftest import DEMO_CORPUS, database_env, make_settings


def _publish(store: IndexStore, files: dict[str, bytes], *, base: bool = True) -> str:
    with store.publishing(base=store.current_dir() if base else None) as staging:
        for name, data in files.items():
            atomic_write(staging.directory / name, data)
    assert staging.version is not None
    return staging.version


def test_publish_links_unchanged_files_and_prunes_only_unheld(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index", keep=2)
    assert store.pointer() is None and store.current_dir() == store.root
    v1 = _publish(store, {"statutes.faiss": b"S1", "cases.faiss": b"C1"}, base=False)
    assert (store.root / POINTER).read_text().strip() == v1 == "index-000001"
    held = store.acquire()
    assert held.version == v1
    v2 = _publish(store, {"cases.faiss": b"C2"})
    # unchanged file: the same inode; rewritten file: a new one, the old version untouched
    assert (store.root / v2 / "statutes.faiss").stat().st_ino == (
        store.root / v1 / "statutes.faiss"
    ).stat().st_ino
    assert (store.root / v1 / "cases.faiss").read_bytes() == b"C1"
    assert (store.current_dir() / "cases.faiss").read_bytes() == b"C2"
    v3 = _publish(store, {"cases.faiss": b"C3"})
    assert store.versions() == [v1, v2, v3], "a held version is never pruned"
    held.release()
    v4 = _publish(store, {"cases.faiss": b"C4"})
    assert store.versions() == [v3, v4]
    assert not any(p.name.startswith((".staging", ".trash")) for p in store.root.iterdir())
    published = store.published(v4)
    assert published and published["files"] == {"statutes.faiss": 2, "cases.faiss": 2}


def test_failed_write_publishes_nothing(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    v1 = _publish(store, {"statutes.faiss": b"S1"}, base=False)
    with pytest.raises(RuntimeError), store.publishing(base=store.current_dir()) as staging:
        atomic_write(staging.directory / "statutes.faiss", b"half")
        raise RuntimeError("the build died")
    assert store.pointer() == v1 and store.versions() == [v1]
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".staging")] == []


READER = """
import json, sys
from assistant.config import get_settings
from assistant.services import build_services

services = build_services(get_settings())
for line in sys.stdin:
    kb = services.knowledge()
    hits = kb.search_cases(line.strip(), k=3)
    maps = open("/proc/self/maps", encoding="utf-8").read()
    print(json.dumps({
        "version": kb.source_dir.name,
        "top": hits[0].id if hits else None,
        "mapped": kb.statute_index.mapped,
        "in_maps": str(kb.source_dir / "statutes.faiss") in maps,
    }), flush=True)
"""


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TAXASSIST_DATA_DIR": str(tmp_path / "data"),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
        "TAXASSIST_MODELS_DIR": str(MODELS_DIR),
        "TAXASSIST_EMBEDDER": "hashing",
        "TAXASSIST_INDEX_KEEP_VERSIONS": "1",
    }
    env.pop("TAXASSIST_DATABASE_URL", None)
    env.update(database_env(tmp_path / "data"))
    proc = subprocess.Popen(
        [sys.executable, "-c", READER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        yield proc, env
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.terminate()  # its work is checked; interpreter shutdown would cost seconds
        proc.wait(30)


def _ask(proc: subprocess.Popen[str], query: str) -> dict[str, object]:
    assert proc.stdin and proc.stdout
    proc.stdin.write(query + "\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    assert line, "the replica died"
    return json.loads(line)  # type: ignore[no-any-return]


def _close_case(services: object, number: str, facts: str) -> None:
    db = services.db  # type: ignore[attr-defined]
    with db.session() as session:
        session.add(
            Case(
                number=number,
                taxpayer_id=1,
                officer_id=1,
                violation_code="tax_evasion",
                facts=facts,
                violation_date=date(2025, 4, 15),
                discovered_date=None,
                status="closed",
            )
        )


def test_replica_switches_to_a_new_version_on_its_next_request(
    tmp_path: Path, replica: tuple[subprocess.Popen[str], dict[str, str]]
) -> None:
    proc, _ = replica
    settings = make_settings(tmp_path / "data", embedder="hashing", index_keep_versions=1)
    writer = build_services(settings)  # the worker that builds and publishes
    writer.db.migrate()
    with writer.db.session() as session:
        session.add(
            User(username="o1", display_name="示例承办人", role="officer", password_hash="x")
        )
        session.add(
            Taxpayer(name="示例商贸有限公司", uscc="91150100MA0N7Y2K37", kind="organisation")
        )
    store = writer.index_store()
    writer.knowledge()
    v1 = store.pointer()
    query = "员工个人银行账户收取货款隐匿收入少缴增值税八十万元"

    first = _ask(proc, query)
    assert first["version"] == v1 and first["mapped"] and first["in_maps"]

    _close_case(
        writer,
        "示税稽〔2026〕9号",
        "该企业通过员工个人银行账户收取货款，隐匿收入，少缴增值税八十万元。",
    )
    writer.index_closed_cases()  # publishes a new version with the closed case
    v2 = store.pointer()
    assert v2 != v1
    assert store.versions() == [v1, v2], "the replica still maps v1: kept despite keep=1"

    second = _ask(proc, query)
    assert second["version"] == v2 and second["mapped"] and second["in_maps"]
    assert second["top"] == "taxassist:示税稽〔2026〕9号"

    _close_case(writer, "示税稽〔2026〕10号", "该公司虚开增值税专用发票五份，价税合计一百万元。")
    writer.index_closed_cases()
    v3 = store.pointer()
    assert store.versions() == [v2, v3], "v1 is released by the replica, v2 still mapped"
    assert _ask(proc, query)["version"] == v3
    assert store.versions() == [v2, v3]  # readers never publish or prune
    writer.db.engine.dispose()
