"""Transcription of interview recordings: decode with PyAV, recognise with faster-whisper."""

from assistant.transcription.audio import AudioInfo, probe_audio
from assistant.transcription.backend import (
    FasterWhisperBackend,
    Segment,
    Transcriber,
    Transcript,
    to_simplified,
)

__all__ = [
    "AudioInfo",
    "FasterWhisperBackend",
    "Segment",
    "Transcriber",
    "Transcript",
    "probe_audio",
    "to_simplified",
]
