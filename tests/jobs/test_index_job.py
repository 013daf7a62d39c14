"""The closed-cases index job: closing a case queues it, the in-process queue runs it, and it
publishes a new index version with only that case added (no rebuild: every other vector keeps
its id and bytes); a retried job publishes nothing; a re-opened case is removed; a reader that
mapped the old version maps the new one on its next request.

The hashing embedder (no model: what is under test is the job and the incremental publish, not
ranking), the real FAISS index, the real database and the real lifecycle `close`; the steps
before closing are the lifecycle tests' (tests/cases/test_lifecycle.py), so the case is put
straight into 执行 here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import faiss
import numpy as np
from sqlalchemy import select

from assistant.cases import CaseWorkflow
from assistant.db.models import Case, Job, User
from assistant.index_versions import IndexStore
from assistant.jobs import InProcessJobQueue, run_job
from assistant.jobs.store import FINAL, INDEX_CLOSED_CASES, interrupted
from assistant.knowledge.consistency import DB_CASE_PREFIX, closed_case_docs
from assistant.knowledge.embcache import CachedEmbedder
from assistant.knowledge.search import CASE_PASSAGE_CHARS
from assistant.services import Services, build_services, setup
from tests.conftest import case_ready_to_close, make_settings

FACTS = "该企业通过员工个人银行账户收取货款，隐匿销售收入，少缴增值税八十六万元。"


def _case_index(version_dir: Path) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """The case index of one published version as stored: string id -> int id, and vectors."""
    sidecar = json.loads((version_dir / "cases.ids.json").read_text(encoding="utf-8"))
    index = faiss.read_index(str(version_dir / "cases.faiss"))
    ids = {str(k): int(v) for k, v in sidecar["ids"].items()}
    return ids, {sid: index.reconstruct(iid) for sid, iid in ids.items()}


def _wait_final(services: Services, job_id: int, timeout: float = 30.0) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        with services.db.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            if job.status in FINAL or time.monotonic() > deadline:
                return job
        time.sleep(0.05)


def test_closing_a_case_adds_it_to_a_new_index_version_without_a_rebuild(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", embedder="hashing", index_keep_versions=2)
    services = build_services(settings)
    setup(services, with_index=True)  # schema, demo users, the index published as version 1
    store: IndexStore = services.index_store()
    v1 = store.pointer()
    assert v1 is not None
    reader = build_services(settings)  # another API replica, serving from version 1
    first = reader.knowledge()
    assert first.source_dir == store.root / v1
    before_ids, before_vectors = _case_index(store.root / v1)
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()

    case_id = case_ready_to_close(services, officer, FACTS)
    queue = InProcessJobQueue(services)
    queue.start()
    try:
        closed = CaseWorkflow(services).lifecycle.close(officer, case_id)
        with services.db.session() as session:
            (job,) = session.scalars(select(Job).where(Job.case_id == case_id)).all()
        job = _wait_final(services, job.id)
    finally:
        queue.stop()
    assert closed.status == "closed"
    assert (job.kind, job.status, job.error_code) == (INDEX_CLOSED_CASES, "succeeded", None)
    doc_id = f"{DB_CASE_PREFIX}{closed.number}"
    v2 = store.pointer()
    assert v2 is not None and v2 != v1
    assert job.details["index"] == {
        "base": v1,
        "version": v2,
        "added": [doc_id],
        "removed": [],
        "skipped": None,
    }

    # only the closed case was added: every other entry keeps its int id and its stored vector
    after_ids, after_vectors = _case_index(store.root / v2)
    assert len(after_ids) == len(before_ids) + 1
    assert {k: v for k, v in after_ids.items() if k != doc_id} == before_ids
    assert all(np.array_equal(after_vectors[k], v) for k, v in before_vectors.items())
    # the statute index was not touched: the new version links the same file
    assert (store.root / v2 / "statutes.faiss").stat().st_ino == (
        store.root / v1 / "statutes.faiss"
    ).stat().st_ino
    # the case was embedded through the embedding cache: asking again embeds nothing
    (doc,) = [d for d in closed_case_docs(services.db) if d.id == doc_id]
    cached = CachedEmbedder(services.models.get("embedder"), settings.resolved_embedding_cache_dir)
    cached.embed_passages([doc.passage(max_chars=CASE_PASSAGE_CHARS)])
    assert cached.embedded == 0

    # the reader switches to the new version on its next request and finds the case
    knowledge = reader.knowledge()
    assert knowledge.source_dir == store.root / v2 and doc_id in knowledge.case_index
    assert doc_id in {hit.id for hit in knowledge.search_cases(FACTS, k=3)}
    # the corpora did not change: the parsed statutes and corpus cases are kept, not re-read
    assert knowledge.statutes is first.statutes
    corpus = [c for c in knowledge.cases if not c.id.startswith(DB_CASE_PREFIX)]
    assert corpus and all(a is b for a, b in zip(corpus, first.cases, strict=False))

    # the job run again (its worker died after publishing, before recording success, and
    # recovery queued it again) finds nothing to change and publishes nothing
    with services.db.session() as session:
        session.get(Job, job.id).status = "running"  # type: ignore[union-attr]
        assert [j.id for j in interrupted(session)] == [job.id]
    assert run_job(services, job.id) == "succeeded"
    assert store.pointer() == v2 and store.versions() == [v1, v2]
    with services.db.session() as session:
        assert session.get(Job, job.id).details["index"]["version"] is None  # type: ignore[union-attr]

    # a case that is no longer closed leaves the index again (the rest untouched)
    with services.db.session() as session:
        session.get(Case, case_id).status = "executing"  # type: ignore[union-attr]
    update = services.index_closed_cases()
    assert update.removed == (doc_id,) and update.added == ()
    assert _case_index(store.root / str(update.version))[0] == before_ids
    reader.db.engine.dispose()
    services.db.engine.dispose()
