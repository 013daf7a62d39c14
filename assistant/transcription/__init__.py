"""Transcription of interview recordings: decode with PyAV, recognise with faster-whisper."""

from assistant.transcription.audio import AudioInfo, probe_audio
from assistant.transcription.backend import (
    FasterWhisperBackend,
    Segment,
    SegmentStream,
    Transcriber,
    Transcript,
    Word,
    to_simplified,
)

__all__ = [
    "AudioInfo",
    "FasterWhisperBackend",
    "Segment",
    "SegmentStream",
    "Transcriber",
    "Transcript",
    "Word",
    "probe_audio",
    "to_simplified",
]
