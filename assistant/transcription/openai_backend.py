"""The reference implementation: openai-whisper (PyTorch, float32) on a local checkpoint.

Optional (extra `whisper-ref`); it exists to compare the project's default against Whisper as
published, on the same weights (`taxassist models convert-whisper` writes the checkpoint from the
bundled CTranslate2 model). It never downloads: only a checkpoint *file* is loaded.

`whisper.transcribe` returns the whole transcript at once, so `stream()` yields its segments only
after decoding has finished (faster-whisper yields them as they are decoded). There is no VAD and
no repetition guard in openai-whisper; the same cleaning as faster-whisper applies afterwards:
t2s, phantom credits, parroted prompt, clamping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ModelUnavailable
from assistant.transcription.backend import SegmentStream, StreamingBackend, clean_segments

SAMPLE_RATE = 16000
INSTALL_HINT = "pip install -e '.[whisper-ref]'"


def convert_hint(checkpoint: Path) -> str:
    return f"taxassist models convert-whisper --to {checkpoint}"


def load_openai_whisper(checkpoint: Path, *, threads: int = 0) -> Any:
    """Load a checkpoint file with `whisper.load_model`; 503 with the fixing command if absent."""
    try:
        import torch
        import whisper
    except ImportError as exc:
        raise ModelUnavailable(
            "model_not_installed",
            f"参考语音识别后端 openai-whisper 未安装，请运行 `{INSTALL_HINT}`。",
            details={"role": "asr", "backend": "openai-whisper", "missing": str(exc.name)},
        ) from None
    if not checkpoint.is_file():
        # load_model() treats a string that is not a file as a model *name* to download: a
        # missing path must never reach it.
        raise ModelUnavailable(
            "model_not_installed",
            f"openai-whisper 模型文件不存在（{checkpoint}）。请运行 `{convert_hint(checkpoint)}`。",
            details={"role": "asr", "backend": "openai-whisper", "path": str(checkpoint)},
        )
    if threads > 0:
        torch.set_num_threads(threads)
    model = whisper.load_model(str(checkpoint), device="cpu")
    heads = torch.load(checkpoint, map_location="cpu", weights_only=True).get("alignment_heads")
    if heads:
        # the converter keeps the model's own alignment heads (load_model only knows them for
        # named downloads); word timestamps then use the same heads as faster-whisper
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model


class OpenAIWhisperBackend(StreamingBackend):
    """openai-whisper's own `transcribe` (float32 on CPU), behind the Transcriber protocol."""

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        model_version: str,
        beam_size: int = 5,
        temperatures: tuple[float, ...] = (0.0, 0.2, 0.4),
        word_timestamps: bool = False,
    ) -> None:
        self.model = model
        self.model_name = model_name
        self.model_version = model_version
        self.beam_size = beam_size
        self.temperatures = temperatures
        self.word_timestamps = word_timestamps

    @property
    def settings_record(self) -> dict[str, Any]:
        return {
            "name": self.model_name,
            "version": self.model_version,
            "backend": "openai-whisper",
            "compute_type": "float32",
            "beam_size": self.beam_size,
            "vad_filter": False,
            "temperatures": list(self.temperatures),
            "condition_on_previous_text": False,
            "word_timestamps": self.word_timestamps,
        }

    def stream(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> SegmentStream:
        """Decodes everything first (openai-whisper has no incremental API), then yields."""
        samples = _load(audio)
        duration = len(samples) / SAMPLE_RATE
        options: dict[str, Any] = {"fp16": False}
        if self.beam_size > 1:
            options["beam_size"] = self.beam_size
        result = self.model.transcribe(
            samples,
            language=language,
            temperature=tuple(self.temperatures),
            condition_on_previous_text=False,
            initial_prompt=initial_prompt,
            word_timestamps=self.word_timestamps,
            verbose=None,
            **options,
        )
        raw = [_RawSegment(segment) for segment in result["segments"]]
        return SegmentStream(
            language=str(result.get("language") or language),
            duration_seconds=duration,
            segments=clean_segments(raw, duration, initial_prompt),
        )


class _RawSegment:
    """openai-whisper's segment dict with the attribute names `clean_segments` reads."""

    def __init__(self, segment: dict[str, Any]) -> None:
        self.text = str(segment["text"])
        self.start = float(segment["start"])
        self.end = float(segment["end"])
        self.avg_logprob = float(segment["avg_logprob"])
        self.no_speech_prob = float(segment["no_speech_prob"])
        self.words = segment.get("words") or ()


def _load(audio: Path | np.ndarray) -> np.ndarray:
    """16 kHz mono float32; files decoded with PyAV (openai-whisper would shell out to ffmpeg)."""
    if isinstance(audio, np.ndarray):
        return audio.astype(np.float32, copy=False)
    from faster_whisper.audio import decode_audio

    return np.asarray(decode_audio(str(audio), sampling_rate=SAMPLE_RATE), dtype=np.float32)
