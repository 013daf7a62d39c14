import hashlib
import io
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.db.files import STALE_TMP_SECONDS, FileStore, make_file_store
from assistant.errors import InvalidInput, PayloadTooLarge
from tests.conftest import make_settings


def test_stage_and_commit_is_content_addressed(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "blobs")
    data = b"original evidence" * 1000
    staged = store.stage(io.BytesIO(data), max_bytes=1_000_000)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.size == len(data)
    path, created = store.commit(staged)
    assert created and path == store.path_for(staged.sha256)
    assert path.read_bytes() == data
    assert not path.stat().st_mode & 0o222, "originals must be read-only"
    again, created_again = store.commit(store.stage(io.BytesIO(data), max_bytes=1_000_000))
    assert again == path and not created_again
    assert store.verify(staged.sha256)
    assert list(store.tmp_dir.iterdir()) == []


def test_oversize_and_empty_leave_no_temp_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "blobs")
    with pytest.raises(PayloadTooLarge):
        store.stage(io.BytesIO(b"x" * 2048), max_bytes=1024)
    with pytest.raises(InvalidInput):
        store.stage(io.BytesIO(b""), max_bytes=1024)
    assert list(store.tmp_dir.iterdir()) == []


def test_verify_detects_a_changed_byte(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "blobs")
    digest, path, _ = store.put_bytes(b"decision v1")
    path.chmod(0o644)
    path.write_bytes(b"decision v2")
    assert not store.verify(digest)


def _store_many(root: str, worker: int, barrier: Any, results: Any) -> None:
    """One host: waits for the others, then stores the shared blobs and one of its own."""
    store = FileStore(Path(root))
    shared = [bytes([n]) * 65536 for n in range(SHARED_BLOBS)]
    own = f"worker {worker}".encode() * 1000
    order = shared[worker % SHARED_BLOBS :] + shared[: worker % SHARED_BLOBS]
    barrier.wait()
    created = [store.put_bytes(data)[2] for data in order]
    staged = store.stage(io.BytesIO(own), max_bytes=1_000_000)
    _, own_created = store.commit(staged)
    results.put((worker, sum(created), own_created))


SHARED_BLOBS = 12
WORKERS = 6


def test_many_processes_on_one_shared_root(tmp_path: Path) -> None:
    """Six processes (hosts on one shared path) store the same twelve blobs and one each at
    once: every blob is whole, exactly one writer created each, no temp file is left."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    root = tmp_path / "shared-blobs"
    FileStore(root)
    procs = [
        context.Process(target=_store_many, args=(str(root), n, barrier, results))
        for n in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    reports = [results.get(timeout=5) for _ in procs]
    assert sum(created for _, created, _ in reports) == SHARED_BLOBS
    assert all(own for _, _, own in reports)
    store = FileStore(root)
    for n in range(SHARED_BLOBS):
        digest = hashlib.sha256(bytes([n]) * 65536).hexdigest()
        assert store.verify(digest)
        assert not store.path_for(digest).stat().st_mode & 0o222
    blobs = [p for p in root.glob("??/*") if p.is_file()]
    assert len(blobs) == SHARED_BLOBS + WORKERS
    assert list(store.tmp_dir.iterdir()) == []


def test_clean_tmp_keeps_uploads_in_flight(tmp_path: Path) -> None:
    """Start-up on one host must not delete another host's upload in progress."""
    store = FileStore(tmp_path / "blobs")
    young = store.tmp_dir / "other-host.part"
    old = store.tmp_dir / "crashed.part"
    young.write_bytes(b"half an upload")
    old.write_bytes(b"left by a crash")
    os.utime(old, (time.time() - STALE_TMP_SECONDS - 60,) * 2)
    store.clean_tmp()
    assert young.exists() and not old.exists()


def test_factory_names_the_backend(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", file_store_root=tmp_path / "nfs" / "blobs")
    store = make_file_store(settings)
    assert isinstance(store, FileStore) and store.root == tmp_path / "nfs" / "blobs"
    with pytest.raises(InvalidInput) as err:
        make_file_store(make_settings(tmp_path / "data", file_store="s3"))
    assert err.value.code == "unknown_file_store"
