"""Job leases on the database row: how distributed workers share jobs (no broker needed).

Two workers handed the same job: one runs it. A running job whose worker still renews its
lease is never requeued by recovery on another host; one whose lease lapsed is. On SQLite and
on the session's PostgreSQL server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.db.models import Job
from assistant.db.types import utcnow
from assistant.errors import InvalidInput
from assistant.jobs import InProcessJobQueue, make_job_queue, store
from assistant.services import Services, build_services, setup
from tests.conftest import FIXTURES, make_settings, queue_demo_recording
from tests.pgserver import new_database

LEASE = 60.0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    """The compare-and-set runs on both databases a bureau may use."""
    with contextlib.ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            url = stack.enter_context(new_database(request.getfixturevalue("postgres_url")))
        data = tmp_path_factory.mktemp("leases") / "data"
        services = build_services(make_settings(data, database_url=url))
        stack.callback(services.db.engine.dispose)  # PostgreSQL drops the database after
        setup(services, with_index=False)
        yield services


def _set(services: Services, job_id: int, **values: object) -> None:
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        for name, value in values.items():
            setattr(job, name, value)


def _job(services: Services, job_id: int) -> Job:
    with services.db.session() as session:
        return store.load_job(session, job_id)


def test_one_of_two_workers_takes_a_job_and_a_live_lease_is_kept(services: Services) -> None:
    _, _, job_id = queue_demo_recording(services, FIXTURES / "interview_zh.wav")
    with services.db.session() as session:
        assert store.take_lease(session, job_id, "host-a:1", LEASE)
    with services.db.session() as session:
        assert not store.take_lease(session, job_id, "host-b:2", LEASE)  # a duplicate message
        assert store.take_lease(session, job_id, "host-a:1", LEASE)  # its own, redelivered
    _set(services, job_id, status="running")
    with services.db.session() as session:
        assert store.renew_lease(session, job_id, "host-a:1")
        assert not store.renew_lease(session, job_id, "host-b:2")
        # recovery on another host leaves a job a live worker runs where it is
        assert store.orphaned(session, LEASE, queued=True) == []
    assert (_job(services, job_id).status, _job(services, job_id).worker) == ("running", "host-a:1")


def test_a_lapsed_lease_is_requeued_once_and_the_old_worker_loses_it(services: Services) -> None:
    _, _, job_id = queue_demo_recording(services, FIXTURES / "interview_zh.wav")
    _set(
        services,
        job_id,
        status="running",
        worker="host-a:1",
        heartbeat_at=utcnow() - timedelta(seconds=LEASE + 1),
    )
    with services.db.session() as session:
        assert store.orphaned(session, LEASE, queued=False) == [job_id]
    with services.db.session() as session:
        assert store.orphaned(session, LEASE, queued=False) == []  # requeued once, not twice
        assert store.take_lease(session, job_id, "host-b:2", LEASE)
        assert not store.renew_lease(session, job_id, "host-a:1")  # host a stops at a segment
    job = _job(services, job_id)
    assert (job.status, job.worker) == ("queued", "host-b:2")
    # final: no lease left, and no worker may take the job again
    with services.db.session() as session:
        store.finish(session, store.load_job(session, job_id), store.SUCCEEDED)
    with services.db.session() as session:
        assert not store.take_lease(session, job_id, "host-b:2", LEASE)
    assert _job(services, job_id).worker is None


def test_job_backend_registry(tmp_path: Path) -> None:
    assert isinstance(make_job_queue(build_services(make_settings(tmp_path))), InProcessJobQueue)
    with pytest.raises(InvalidInput) as caught:
        make_job_queue(build_services(make_settings(tmp_path, job_backend="rabbit")))
    assert caught.value.code == "unknown_job_backend"
    assert caught.value.details["available"] == ["inprocess", "celery"]
