"""Cosine index over FAISS with string ids, saved atomically; exact or approximate by size.

Statute and case ids are strings; FAISS wants int64, so a JSON sidecar maps one to the other.

Index type: below `IndexParams.hnsw_threshold` vectors (the "approximate above" threshold;
name kept for settings compatibility) the index is exact (IndexFlatIP: a brute-force scan of
a few thousand vectors costs well under a millisecond, and it is exact); at or above it,
IVF-flat (IndexIVFFlat, inner product), because that is what reached recall@10 1.0 on the
measured 1M-vector run (docs/benchmarks.md, "ANN"), where HNSW did not. HNSW stays selectable.
Flat and HNSW sit under IndexIDMap2; IVF keeps our int64 ids natively (IndexIDMap2 over IVF
returns wrong ids after remove_ids, because IVF does not renumber) with a hashtable direct map,
so remove_ids and reconstruct by id work directly. IVF is trained on the live vectors each
time it is built or rebuilt; with automatic nlist it is retrained once the collection has
grown enough for nlist to double.

HNSW cannot delete a node from its graph. Removal is therefore a tombstone: the int id is
kept in a set that every search excludes through a FAISS IDSelector (the filter is applied
inside the graph walk, so k results still come back), and once tombstones exceed
`rebuild_tombstone_ratio` of the stored vectors the graph is rebuilt from the live vectors
(which IndexHNSWFlat stores uncompressed, so no re-embedding). This keeps add/remove O(1)
and avoids a second id-filter layer above FAISS.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.errors import InvalidInput, NotFound, TaxAssistError
from assistant.fsutil import atomic_write

IndexKind = Literal["flat", "hnsw", "ivf"]
INDEX_KINDS: tuple[str, ...] = ("auto", "flat", "hnsw", "ivf")
MIN_POINTS_PER_LIST = 39  # FAISS warns below this many training points per IVF list
#: IVF k-means trains on a seeded sample of at most this many points per list, for this many
#: iterations (the benchmark's 1M setting: docs/benchmarks.md, "ANN"). FAISS's defaults (256
#: points per list, 25 iterations) would train on the whole of a 1M collection, several times
#: the build time for no recall gained there.
IVF_TRAIN_POINTS_PER_LIST = 40
IVF_TRAIN_ITERATIONS = 10
SIDECAR_FORMAT = 2


def _faiss():  # type: ignore[no-untyped-def]
    import faiss

    return faiss


def faiss_ivf_params(nprobe: int) -> Any:
    """Search parameters for an IVF index (nprobe per query, not a mutable index field)."""
    return _faiss().SearchParametersIVF(nprobe=nprobe)


def _stored_labels(index: Any) -> np.ndarray:
    """Every int64 id held by a FAISS index: the IndexIDMap2 map, or the IVF inverted lists."""
    faiss = _faiss()
    if hasattr(index, "id_map"):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).astype(np.int64)
        for i in range(ivf.nlist)
        if lists.list_size(i)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """At most IVF_TRAIN_POINTS_PER_LIST * nlist rows of `vectors`, the same ones every time."""
    limit = IVF_TRAIN_POINTS_PER_LIST * nlist
    if len(vectors) <= limit:
        return vectors
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), limit, replace=False))
    return np.ascontiguousarray(vectors[rows])


@dataclass(frozen=True)
class IndexParams:
    """How an index is built: `kind` auto picks exact below `hnsw_threshold`, IVF-flat above.

    `hnsw_threshold` is the "approximate above" threshold for auto (name kept for settings
    compatibility). `ivf_nlist` 0 means automatic (see `nlist_for`).
    """

    kind: str = "auto"
    hnsw_threshold: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 64
    rebuild_tombstone_ratio: float = 0.2
    ivf_nlist: int = 0
    ivf_nprobe: int = 8

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise InvalidInput(
                "invalid_index_kind",
                f"未知的索引类型：{self.kind}（可用：{'、'.join(INDEX_KINDS)}）",
                details={"kind": self.kind, "available": list(INDEX_KINDS)},
            )
        if min(self.hnsw_threshold, self.hnsw_m, self.hnsw_ef_construction) < 1 or (
            self.hnsw_ef_search < 1
        ):
            raise InvalidInput("invalid_index_params", "索引参数必须为正整数")
        if not 0 < self.rebuild_tombstone_ratio <= 1:
            raise InvalidInput("invalid_index_params", "墓碑重建比例必须在 (0, 1] 之间")
        if self.ivf_nlist < 0 or self.ivf_nprobe < 1:
            raise InvalidInput("invalid_index_params", "IVF 聚类数不能为负，探查数必须为正整数")

    def kind_for(self, count: int) -> IndexKind:
        """The index type for a collection of `count` vectors."""
        if self.kind == "flat":
            return "flat"
        if self.kind == "hnsw":
            return "hnsw"
        if self.kind == "ivf":
            return "ivf"
        return "ivf" if count >= self.hnsw_threshold else "flat"

    def nlist_for(self, count: int) -> int:
        """IVF lists for training on `count` vectors: `ivf_nlist`, or about 4·sqrt(n) when 0.

        Either way capped so that k-means sees at least 39 points per list (and at least 1).
        """
        wanted = self.ivf_nlist or round(4 * count**0.5)
        return max(1, min(wanted, count // MIN_POINTS_PER_LIST))


def index_params_from_settings(settings: Any) -> IndexParams:
    """IndexParams from the TAXASSIST_INDEX_* settings."""
    return IndexParams(
        kind=settings.index_kind,
        hnsw_threshold=settings.index_hnsw_threshold,
        hnsw_m=settings.index_hnsw_m,
        hnsw_ef_construction=settings.index_hnsw_ef_construction,
        hnsw_ef_search=settings.index_hnsw_ef_search,
        ivf_nlist=settings.index_ivf_nlist,
        ivf_nprobe=settings.index_ivf_nprobe,
    )


class VectorIndex:
    """Cosine similarity over L2-normalized float32 vectors, keyed by string ids."""

    def __init__(
        self, dim: int, *, kind: IndexKind | None = None, params: IndexParams | None = None
    ) -> None:
        if dim <= 0:
            raise InvalidInput("invalid_dim", f"向量维度必须为正整数：{dim}")
        self.dim = dim
        self.params = params or IndexParams()
        self.kind: IndexKind = kind or self.params.kind_for(0)
        if self.kind not in ("flat", "hnsw", "ivf"):
            raise InvalidInput("invalid_index_kind", f"未知的索引类型：{self.kind}")
        self._index = self._empty(self.kind)
        self._to_int: dict[str, int] = {}
        self._to_str: dict[int, str] = {}
        self._tombstones: set[int] = set()
        self._selector: tuple[Any, Any] | None = None
        self._next = 0
        #: True while the FAISS data is a read-only view of a memory-mapped file (load(mmap=True))
        self.mapped = False
        #: what keeps the mapped file's published version from being pruned (versions.Lease)
        self.lease: object | None = None

    def _own(self) -> None:
        """Copy a memory-mapped index into memory before changing it.

        FAISS aborts the process (not an exception) when a mapped view is resized, and the
        mapped file is a published version other processes read: it must never change.
        """
        if self.mapped:
            faiss = _faiss()
            self._index = faiss.deserialize_index(faiss.serialize_index(self._index))
            self._selector = None
            self.mapped = False

    def _empty(self, kind: IndexKind, train: np.ndarray | None = None) -> Any:
        """A new FAISS index; IVF is trained on `train` (left untrained when none is given)."""
        faiss = _faiss()
        if kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        if kind == "ivf":
            count = 0 if train is None else len(train)
            nlist = self.params.nlist_for(count)
            quantizer = faiss.IndexFlatIP(self.dim)
            ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.own_fields = True
            quantizer.this.disown()  # the IVF index now frees its quantizer
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove/reconstruct by id
            ivf.nprobe = self.params.ivf_nprobe
            ivf.cp.niter = IVF_TRAIN_ITERATIONS
            if train is not None and count:
                ivf.train(_training_sample(train, nlist))
            return ivf
        inner = faiss.IndexHNSWFlat(self.dim, self.params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = self.params.hnsw_ef_construction
        inner.hnsw.efSearch = self.params.hnsw_ef_search
        return faiss.IndexIDMap2(inner)

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
        """Add vectors; an id already present is replaced (upsert).

        With `kind` auto, a flat index that grows past the threshold becomes IVF-flat here,
        trained on all current vectors. An untrained IVF index is trained on this batch.
        """
        ids = list(ids)
        if len(set(ids)) != len(ids):
            raise InvalidInput("duplicate_ids", "同一批次中存在重复的编号")
        arr = self._check(vectors, len(ids))
        if not ids:
            return
        self._own()
        self.remove([i for i in ids if i in self._to_int])
        ints = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._next += len(ids)
        if self.kind == "ivf" and not self._index.is_trained:
            self._index = self._empty("ivf", train=arr)
        self._index.add_with_ids(arr, ints)
        for sid, iid in zip(ids, ints.tolist(), strict=True):
            self._to_int[sid] = iid
            self._to_str[iid] = sid
        wanted = self.params.kind_for(len(self))
        if self.params.kind == "auto" and self.kind == "flat" and wanted == "ivf":
            self.rebuild(kind="ivf")
        elif self.kind == "ivf" and self.params.nlist_for(len(self)) >= 2 * self._index.nlist:
            self.rebuild()  # automatic nlist has doubled: retrain on the grown collection

    def remove(self, ids: Sequence[str]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        present = [self._to_int[i] for i in ids if i in self._to_int]
        if not present:
            return 0
        self._own()
        if self.kind in ("flat", "ivf"):
            removed = int(self._index.remove_ids(np.array(present, dtype=np.int64)))
        else:
            self._tombstones.update(present)
            self._selector = None
            removed = len(present)
        for iid in present:
            self._to_int.pop(self._to_str.pop(iid))
        if self.kind == "hnsw" and len(self._tombstones) > (
            self.params.rebuild_tombstone_ratio * max(int(self._index.ntotal), 1)
        ):
            self.rebuild()
        return removed

    def _live(self) -> tuple[np.ndarray, np.ndarray]:
        """(int ids, vectors) of every live entry, read back from FAISS (no re-embedding)."""
        faiss = _faiss()
        total = int(self._index.ntotal)
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        if self.kind == "ivf":
            labels = np.array(sorted(self._to_str), dtype=np.int64)
            vectors = self._index.reconstruct_batch(labels)
            return labels, np.ascontiguousarray(vectors, dtype=np.float32)
        labels = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        vectors = self._index.index.reconstruct_n(0, total)
        keep = np.array([int(i) not in self._tombstones for i in labels], dtype=bool)
        return labels[keep], np.ascontiguousarray(vectors[keep], dtype=np.float32)

    def rebuild(self, *, kind: IndexKind | None = None) -> None:
        """Rebuild FAISS from the stored vectors (drops tombstones; may change the type).

        IVF is (re)trained here on all live vectors.
        """
        labels, vectors = self._live()
        self.mapped = False  # the fresh index below is built in memory
        self.kind = kind or self.kind
        fresh = self._empty(self.kind, train=vectors if len(labels) else None)
        if len(labels):
            fresh.add_with_ids(vectors, labels)
        self._index = fresh
        self._tombstones = set()
        self._selector = None

    def copy(self) -> VectorIndex:
        """An independent in-memory copy (FAISS data and id maps), to change while others read."""
        faiss = _faiss()
        out = VectorIndex(self.dim, kind=self.kind, params=self.params)
        out._index = faiss.deserialize_index(faiss.serialize_index(self._index))
        out._to_int = dict(self._to_int)
        out._to_str = dict(self._to_str)
        out._tombstones = set(self._tombstones)
        out._next = self._next
        return out

    @property
    def tombstones(self) -> int:
        return len(self._tombstones)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k (id, cosine) for one query vector, best first."""
        if k <= 0:
            raise InvalidInput("invalid_k", f"返回数量 k 必须为正整数：{k}", details={"k": k})
        q = self._check(query, 1)
        n = min(k, len(self))
        if n == 0:
            return []
        if self.kind == "flat":
            scores, ids = self._index.search(q, n)
        elif self.kind == "ivf":
            nprobe = min(self.params.ivf_nprobe, int(self._index.nlist))
            scores, ids = self._index.search(q, n, params=faiss_ivf_params(nprobe))
        else:
            faiss = _faiss()
            params = faiss.SearchParametersHNSW(efSearch=max(self.params.hnsw_ef_search, n))
            if self._tombstones:
                if self._selector is None:  # built once per change of the tombstone set
                    batch = faiss.IDSelectorBatch(np.fromiter(self._tombstones, dtype=np.int64))
                    self._selector = (batch, faiss.IDSelectorNot(batch))  # Not does not own batch
                params.sel = self._selector[1]
            scores, ids = self._index.search(q, n, params=params)
        return [
            (self._to_str[int(i)], float(s))
            for s, i in zip(scores[0], ids[0], strict=True)
            if int(i) != -1 and int(i) in self._to_str
        ]

    def ids(self) -> list[str]:
        return list(self._to_int)

    def __contains__(self, sid: object) -> bool:
        return sid in self._to_int

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._tombstones)

    def describe(self) -> dict[str, Any]:
        """Type, size and parameters, for manifests and `taxassist index status`."""
        return {
            "kind": self.kind,
            "count": len(self),
            "tombstones": len(self._tombstones),
            "dim": self.dim,
            "params": asdict(self.params),
            **({"nlist": int(self._index.nlist)} if self.kind == "ivf" else {}),
        }

    def save(self, directory: Path, name: str) -> None:
        """Write `<name>.faiss` and `<name>.ids.json` (each via a temp file and rename)."""
        faiss = _faiss()
        directory = Path(directory)
        blob = faiss.serialize_index(self._index).tobytes()
        sidecar = {
            "format": SIDECAR_FORMAT,
            "dim": self.dim,
            "kind": self.kind,
            "params": asdict(self.params),
            "count": len(self),
            "next": self._next,
            "tombstones": sorted(self._tombstones),
            "ids": self._to_int,
        }
        atomic_write(directory / f"{name}.faiss", blob)
        atomic_write(
            directory / f"{name}.ids.json",
            json.dumps(sidecar, ensure_ascii=False).encode("utf-8"),
        )

    @classmethod
    def load(cls, directory: Path, name: str, *, mmap: bool = False) -> VectorIndex:
        """Read an index back; a torn or mismatched sidecar raises index_corrupt (HTTP 500).

        `mmap`: map the FAISS file instead of reading it (every kind here supports it), so
        processes on one host share its pages; only for files that never change (published
        versions, assistant.index_versions). A change copies it into memory first.
        """
        faiss = _faiss()
        directory = Path(directory)
        index_path, ids_path = directory / f"{name}.faiss", directory / f"{name}.ids.json"
        if not index_path.is_file() or not ids_path.is_file():
            raise NotFound(
                "index_missing",
                f"检索索引不存在：{index_path}，请先运行 `taxassist index build`",
                details={"path": str(index_path)},
            )
        corrupt = TaxAssistError(
            "index_corrupt",
            f"检索索引与编号表不一致：{index_path}，请运行 `taxassist index check --rebuild`",
            status_code=500,
            details={"path": str(index_path)},
        )
        try:
            sidecar = json.loads(ids_path.read_text(encoding="utf-8"))
            if mmap:
                index = faiss.read_index(str(index_path), faiss.IO_FLAG_MMAP_IFC)
            else:
                raw = np.frombuffer(index_path.read_bytes(), dtype=np.uint8)
                index = faiss.deserialize_index(raw)
            kind = str(sidecar.get("kind", "flat"))
            params = IndexParams(**sidecar["params"]) if "params" in sidecar else IndexParams()
            out = cls(int(sidecar["dim"]), kind=kind, params=params)  # type: ignore[arg-type]
            to_int = {str(k): int(v) for k, v in sidecar["ids"].items()}
            tombstones = {int(t) for t in sidecar.get("tombstones", [])}
            labels = _stored_labels(index)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError) as exc:
            raise corrupt from exc
        live = {int(i) for i in labels} - tombstones
        if index.d != out.dim or live != set(to_int.values()):
            raise corrupt
        out._index = index
        out._to_int = to_int
        out._to_str = {v: k for k, v in to_int.items()}
        out._tombstones = tombstones
        out._next = int(sidecar["next"])
        out.mapped = mmap
        return out
