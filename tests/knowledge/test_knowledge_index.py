"""VectorIndex: add/remove/search and an atomic save/load round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import InvalidInput, NotFound
from assistant.knowledge import VectorIndex


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def vectors() -> np.ndarray:
    return unit(np.random.default_rng(7).normal(size=(20, 8)))


def test_add_search_remove(vectors: np.ndarray) -> None:
    index = VectorIndex(8)
    ids = [f"doc:{i}" for i in range(20)]
    index.add(ids, vectors)
    assert len(index) == 20
    hits = index.search(vectors[3], 3)
    assert hits[0][0] == "doc:3" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert index.remove(["doc:3", "missing"]) == 1
    assert len(index) == 19 and "doc:3" not in index
    assert all(h[0] != "doc:3" for h in index.search(vectors[3], 19))
    # upsert: re-adding an id replaces its vector
    index.add(["doc:4"], vectors[5:6])
    assert len(index) == 19
    assert {h[0] for h in index.search(vectors[5], 2)} == {"doc:4", "doc:5"}
    assert len(index.search(vectors[0], 100)) == 19


def test_save_load_round_trip(tmp_path: Path, vectors: np.ndarray) -> None:
    index = VectorIndex(8)
    index.add([f"条:{i}" for i in range(20)], vectors)
    index.remove(["条:0"])
    index.save(tmp_path, "t")
    assert not list(tmp_path.glob("*.tmp"))
    loaded = VectorIndex.load(tmp_path, "t")
    assert len(loaded) == 19
    assert loaded.search(vectors[7], 5) == index.search(vectors[7], 5)
    loaded.add(["条:new"], vectors[0:1])  # ids keep counting after load: no collision
    assert loaded.search(vectors[0], 1)[0][0] == "条:new"
    assert loaded.search(vectors[1], 1)[0][0] == "条:1"


def test_load_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as exc:
        VectorIndex.load(tmp_path, "absent")
    assert exc.value.code == "index_missing"


def test_bad_input(vectors: np.ndarray) -> None:
    index = VectorIndex(8)
    with pytest.raises(InvalidInput):
        index.add(["a", "b"], vectors[:3])
    with pytest.raises(InvalidInput):
        index.add(["a", "a"], vectors[:2])
    with pytest.raises(InvalidInput):
        index.add(["a"], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(InvalidInput) as exc:
        index.search(vectors[0], 0)
    assert exc.value.code == "invalid_k"
    assert index.search(vectors[0], 5) == []
