"""Voice embeddings without torch: resemblyzer 0.1.4's GE2E speaker encoder ported to numpy.

The default install must run without torch, so the 3-layer LSTM (40 mel bands in, 256 hidden,
256-d projection, ReLU, L2 norm) is re-implemented here and its weights are read straight from
the wheel's `pretrained.pt` by a restricted unpickler that understands torch's legacy file
layout (no code from the file is ever run). Mel frames are computed as resemblyzer's audio.py
does with librosa 0.11 (16 kHz, 25 ms Hann window, 10 ms hop, 40 Slaney mel bands, power 2,
zero-padded centre frames); partial utterances of 160 frames (1.6 s) are averaged.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from threadpoolctl import threadpool_limits

from assistant.errors import ModelUnavailable

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
HIDDEN = 256
EMBEDDING_SIZE = 256
LAYERS = 3
TARGET_DBFS = -30.0  # resemblyzer's volume normalisation target (increase only)
_INT16_MAX = 2**15 - 1
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
}


# --- weights: torch's legacy pickle layout, read without torch --------------------------------


@dataclass
class _Storage:
    key: str
    dtype: type[np.generic]
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        base = self.storage.data[self.offset :]
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(
            base, shape=self.shape, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view, copy=True)


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


def _rebuild_tensor(storage: _Storage, offset: int, shape: Any, stride: Any, *_: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


def _rebuild_parameter(data: _TensorRef, *_: Any) -> _TensorRef:
    return data


class _CheckpointUnpickler(pickle.Unpickler):
    """Only the few names a tensor checkpoint needs; anything else in the file is refused."""

    def __init__(self, handle: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(handle)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, _size, view = pid
        if kind != "storage" or view is not None or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage {pid!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(key, _DTYPES[storage_type.name])
        return self.storages[key]


def _plain(handle: BinaryIO) -> Any:
    return _CheckpointUnpickler(handle, {}).load()


def read_torch_state(path: Path, key: str = "model_state") -> dict[str, np.ndarray]:
    """The tensors of `checkpoint[key]` as numpy arrays, from a legacy (non-zip) torch file."""
    storages: dict[str, _Storage] = {}
    with path.open("rb") as handle:
        if _plain(handle) != _LEGACY_MAGIC:
            raise ValueError(f"{path} is not a legacy torch checkpoint")
        _plain(handle)  # protocol version
        _plain(handle)  # sys info
        checkpoint = _CheckpointUnpickler(handle, storages).load()
        for storage_key in _plain(handle):
            storage = storages[storage_key]
            (count,) = struct.unpack("<q", handle.read(8))
            size = count * np.dtype(storage.dtype).itemsize
            storage.data = np.frombuffer(handle.read(size), dtype=storage.dtype)
    state = checkpoint[key]
    return {name: ref.array() for name, ref in state.items() if isinstance(ref, _TensorRef)}


# --- features ---------------------------------------------------------------------------------


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, log above."""
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    log_part = hz >= 1000.0
    mels[log_part] = min_log_mel + np.log(hz[log_part] / 1000.0) / logstep
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    log_part = mels >= min_log_mel
    freqs[log_part] = 1000.0 * np.exp(logstep * (mels[log_part] - min_log_mel))
    return freqs


def mel_filterbank() -> np.ndarray:
    """(40, 201) Slaney-normalised triangular filters, as librosa.filters.mel builds them."""
    fft_freqs = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    low, high = _hz_to_mel(np.array([0.0])), _hz_to_mel(np.array([SAMPLE_RATE / 2.0]))
    mel_f = _mel_to_hz(np.linspace(low[0], high[0], N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((N_MELS, len(fft_freqs)), dtype=np.float32)
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS])
    weights *= enorm[:, np.newaxis]
    return weights


_MEL_BASIS = mel_filterbank()
_WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) float32 power mel spectrogram; frame t is centred on sample t·160."""
    padded = np.pad(wav.astype(np.float32), (N_FFT // 2, N_FFT // 2))
    count = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    spectrum = np.fft.rfft(frames * _WINDOW, axis=1).astype(np.complex64)
    power = np.abs(spectrum) ** 2
    return (power @ _MEL_BASIS.T).astype(np.float32)


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise quiet audio to -30 dBFS (never lower it): the encoder sees power, not log power."""
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * _INT16_MAX) ** 2))) if len(wav) else 0.0
    if rms == 0.0:
        return wav
    change = target_dbfs - 20 * np.log10(rms / _INT16_MAX)
    if change < 0:
        return wav
    return (wav * (10 ** (change / 20))).astype(np.float32)


def partial_slices(
    n_samples: int, rate: float = 1.3, min_coverage: float = 0.75
) -> list[tuple[int, int]]:
    """Mel-frame ranges of the 1.6 s partial utterances (resemblyzer's compute_partial_slices:
    about 1.3 per second, i.e. ~50% overlap; a short tail is dropped unless it is all there is)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / rate) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [(i, i + PARTIAL_FRAMES) for i in range(0, steps, step)]
    last_start = slices[-1][0] * HOP
    coverage = (n_samples - last_start) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices


# --- the network --------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


class VoiceEncoder:
    """GE2E encoder: mel partials → 256-d L2-normalised voice embeddings (numpy, float32)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        # torch orders the gates i, f, g, o; here i, f, o, g, so one sigmoid covers three
        order = np.r_[0 : 2 * HIDDEN, 3 * HIDDEN : 4 * HIDDEN, 2 * HIDDEN : 3 * HIDDEN]
        try:
            self.layers = [
                (
                    np.ascontiguousarray(weights[f"lstm.weight_ih_l{k}"][order].T, np.float32),
                    np.ascontiguousarray(weights[f"lstm.weight_hh_l{k}"][order].T, np.float32),
                    (weights[f"lstm.bias_ih_l{k}"] + weights[f"lstm.bias_hh_l{k}"])[order].astype(
                        np.float32
                    ),
                )
                for k in range(LAYERS)
            ]
            self.linear_w = np.ascontiguousarray(weights["linear.weight"].T, dtype=np.float32)
            self.linear_b = weights["linear.bias"].astype(np.float32)
        except KeyError as exc:
            raise ModelUnavailable(
                "speaker_model_invalid",
                "声纹模型文件缺少参数，文件可能已损坏。",
                details={"missing": str(exc)},
            ) from exc

    @classmethod
    def from_file(cls, path: Path) -> VoiceEncoder:
        if not path.is_file():
            raise ModelUnavailable(
                "model_not_installed",
                f"声纹模型未安装（{path}）。请运行 `make setup`"
                "（pip install --no-deps resemblyzer==0.1.4）。",
                details={"role": "speaker", "path": str(path)},
            )
        return cls(read_torch_state(path))

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, 40) → (batch, 256): last hidden state of layer 3, linear, ReLU, L2."""
        batch, steps, _ = mels.shape
        # time-major, so each step's slice is contiguous
        x = np.ascontiguousarray(mels.transpose(1, 0, 2), dtype=np.float32)
        h = np.zeros((batch, HIDDEN), dtype=np.float32)
        gates = np.empty((batch, 4 * HIDDEN), dtype=np.float32)
        for w_ih, w_hh, bias in self.layers:
            # the input part of every gate for all steps at once: one large matrix product
            projected = (x.reshape(steps * batch, -1) @ w_ih + bias).reshape(steps, batch, -1)
            h = np.zeros((batch, HIDDEN), dtype=np.float32)
            c = np.zeros((batch, HIDDEN), dtype=np.float32)
            outputs = np.empty((steps, batch, HIDDEN), dtype=np.float32)
            for t in range(steps):
                np.matmul(h, w_hh, out=gates)
                gates += projected[t]
                sig = _sigmoid(gates[:, : 3 * HIDDEN])
                candidate = np.tanh(gates[:, 3 * HIDDEN :])
                c = sig[:, HIDDEN : 2 * HIDDEN] * c + sig[:, :HIDDEN] * candidate
                h = sig[:, 2 * HIDDEN :] * np.tanh(c)
                outputs[t] = h
            x = outputs
        raw = np.maximum(h @ self.linear_w + self.linear_b, 0.0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def embed_utterance(self, wav: np.ndarray) -> np.ndarray:
        """One 256-d embedding: the L2-normalised mean of the partial-utterance embeddings."""
        return self.embed_many([wav])[0]

    def embed_many(self, wavs: list[np.ndarray], *, batch: int = 128) -> np.ndarray:
        """(len(wavs), 256): the partials of all utterances go through the LSTM together, since
        the per-step cost of the recurrence is mostly overhead that a larger batch shares."""
        partials: list[np.ndarray] = []
        owners: list[int] = []
        for n, wav in enumerate(wavs):
            slices = partial_slices(len(wav))
            needed = slices[-1][1] * HOP
            if needed >= len(wav):
                wav = np.pad(wav, (0, needed - len(wav)))
            mel = mel_frames(wav)
            partials += [mel[a:b] for a, b in slices]
            owners += [n] * len(slices)
        if not partials:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        stacked = np.stack(partials)
        # One BLAS thread: the recurrence is hundreds of small products, for which OpenBLAS's
        # threads mostly wait on each other (7x slower on 2 busy cores), and one thread gives
        # the same bits whatever the machine's core count.
        with threadpool_limits(limits=1, user_api="blas"):
            embeds = np.concatenate(
                [self.embed_mels(stacked[i : i + batch]) for i in range(0, len(stacked), batch)]
            )
        sums = np.zeros((len(wavs), EMBEDDING_SIZE), dtype=np.float64)
        np.add.at(sums, np.asarray(owners), embeds.astype(np.float64))
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
