"""One place that turns settings into an ASR backend (Services.transcriber() and the bench)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.registry import load_manifest
from assistant.transcription.backend import FasterWhisperBackend, Transcriber

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.registry import ModelRegistry


def make_transcriber(settings: Settings, registry: ModelRegistry) -> Transcriber:
    """faster-whisper on the manifest's model (or any CTranslate2 Whisper dir in asr_model_path),
    or the openai-whisper reference on a local checkpoint. A missing model, extra or checkpoint
    raises ModelUnavailable (503 `model_not_installed`) with the command that fixes it."""
    spec = load_manifest()["asr"]
    if settings.asr_backend == "openai-whisper":
        from assistant.transcription.openai_backend import OpenAIWhisperBackend

        custom = settings.asr_checkpoint is not None
        return OpenAIWhisperBackend(
            registry.get("asr_reference"),
            model_name="custom" if custom else f"{spec.name} (converted)",
            model_version=spec.version,
            beam_size=settings.asr_beam_size,
            temperatures=settings.asr_temperatures,
            word_timestamps=settings.asr_word_timestamps,
        )
    return FasterWhisperBackend(
        registry.get("asr"),
        model_name=spec.name if settings.asr_model_path is None else "custom",
        model_version=spec.version,
        model_sha256=registry.asr_model_sha256(),
        beam_size=settings.asr_beam_size,
        compute_type=settings.asr_compute_type,
        temperatures=settings.asr_temperatures,
        no_repeat_ngram_size=settings.asr_no_repeat_ngram_size,
        vad_filter=settings.asr_vad_filter,
        batch_size=settings.asr_batch_size,
        word_timestamps=settings.asr_word_timestamps,
        checks_enabled=settings.asr_checks,
    )
