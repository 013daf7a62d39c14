import hashlib
import io
from pathlib import Path

import pytest

from assistant.db.files import FileStore
from assistant.errors import InvalidInput, PayloadTooLarge


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
