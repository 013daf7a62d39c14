"""Exact cosine index (FAISS IndexFlatIP under IndexIDMap2) with string ids, saved atomically.

Statute and case ids are strings; FAISS wants int64, so a JSON sidecar maps one to the other.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.errors import InvalidInput, NotFound, TaxAssistError


def _faiss():  # type: ignore[no-untyped-def]
    import faiss

    return faiss


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class VectorIndex:
    """Cosine similarity over L2-normalized float32 vectors, keyed by string ids."""

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise InvalidInput("invalid_dim", f"向量维度必须为正整数：{dim}")
        faiss = _faiss()
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._to_int: dict[str, int] = {}
        self._to_str: dict[int, str] = {}
        self._next = 0

    def _check(self, vectors: np.ndarray, rows: int | None = None) -> np.ndarray:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != self.dim or (rows is not None and arr.shape[0] != rows):
            raise InvalidInput(
                "invalid_vectors",
                f"向量形状不正确：期望 ({rows if rows is not None else 'n'}, {self.dim})，"
                f"实际 {arr.shape}",
                details={"shape": list(arr.shape), "dim": self.dim},
            )
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("invalid_vectors", "向量中含有非有限数值")
        return np.ascontiguousarray(arr)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors; an id already present is replaced (upsert)."""
        ids = list(ids)
        if len(set(ids)) != len(ids):
            raise InvalidInput("duplicate_ids", "同一批次中存在重复的编号")
        arr = self._check(vectors, len(ids))
        if not ids:
            return
        self.remove([i for i in ids if i in self._to_int])
        ints = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._next += len(ids)
        self._index.add_with_ids(arr, ints)
        for sid, iid in zip(ids, ints.tolist(), strict=True):
            self._to_int[sid] = iid
            self._to_str[iid] = sid

    def remove(self, ids: Sequence[str]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        present = [self._to_int[i] for i in ids if i in self._to_int]
        if not present:
            return 0
        removed = int(self._index.remove_ids(np.array(present, dtype=np.int64)))
        for iid in present:
            self._to_int.pop(self._to_str.pop(iid))
        return removed

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k (id, cosine) for one query vector, best first."""
        if k <= 0:
            raise InvalidInput("invalid_k", f"返回数量 k 必须为正整数：{k}", details={"k": k})
        q = self._check(query, 1)
        n = min(k, len(self))
        if n == 0:
            return []
        scores, ids = self._index.search(q, n)
        return [
            (self._to_str[int(i)], float(s))
            for s, i in zip(scores[0], ids[0], strict=True)
            if int(i) != -1
        ]

    def ids(self) -> list[str]:
        return list(self._to_int)

    def __contains__(self, sid: object) -> bool:
        return sid in self._to_int

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, directory: Path, name: str) -> None:
        """Write `<name>.faiss` and `<name>.ids.json` (each via a temp file and rename)."""
        faiss = _faiss()
        directory = Path(directory)
        blob = faiss.serialize_index(self._index).tobytes()
        sidecar = {
            "dim": self.dim,
            "count": len(self),
            "next": self._next,
            "ids": self._to_int,
        }
        _atomic_write(directory / f"{name}.faiss", blob)
        _atomic_write(
            directory / f"{name}.ids.json",
            json.dumps(sidecar, ensure_ascii=False).encode("utf-8"),
        )

    @classmethod
    def load(cls, directory: Path, name: str) -> VectorIndex:
        faiss = _faiss()
        directory = Path(directory)
        index_path, ids_path = directory / f"{name}.faiss", directory / f"{name}.ids.json"
        if not index_path.is_file() or not ids_path.is_file():
            raise NotFound(
                "index_missing",
                f"检索索引不存在：{index_path}，请先运行 `taxassist index build`",
                details={"path": str(index_path)},
            )
        sidecar = json.loads(ids_path.read_text(encoding="utf-8"))
        raw = np.frombuffer(index_path.read_bytes(), dtype=np.uint8)
        index = faiss.deserialize_index(raw)
        out = cls(int(sidecar["dim"]))
        if index.d != out.dim or index.ntotal != len(sidecar["ids"]):
            raise TaxAssistError(
                "index_corrupt",
                f"检索索引与编号表不一致：{index_path}，请重新运行 `taxassist index build`",
                status_code=500,
                details={"path": str(index_path)},
            )
        out._index = index
        out._to_int = {str(k): int(v) for k, v in sidecar["ids"].items()}
        out._to_str = {v: k for k, v in out._to_int.items()}
        out._next = int(sidecar["next"])
        return out
