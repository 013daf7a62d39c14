"""Probe uploads with PyAV (no system ffmpeg): is it audio, how long, which codec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from assistant.errors import InvalidInput, UnsupportedMedia


@dataclass(frozen=True)
class AudioInfo:
    duration_seconds: float
    sample_rate: int
    channels: int
    codec: str
    container: str


def probe_audio(path: Path, *, max_seconds: float | None = None) -> AudioInfo:
    """Refuse what is not decodable audio before any model time is spent on it."""
    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            if not streams:
                raise UnsupportedMedia(
                    "not_audio", "文件中没有音频轨道，请上传录音或带声音的视频。"
                )
            stream = streams[0]
            codec = _decoder_name(stream)
            if codec is None:
                raise UnsupportedMedia(
                    "unsupported_codec",
                    "不支持该音频编码，请将录音转换为常见格式（如 MP3、WAV、M4A）后上传。",
                )
            duration = _duration(container, stream)
            # Decode the first packet: catches truncated or mislabelled files early.
            decoded = False
            for frame in container.decode(stream):
                decoded = frame.samples > 0
                break
            if not decoded and duration <= 0:
                raise InvalidInput("empty_audio", "录音中没有声音数据（时长为零）。")
            if not decoded:
                raise InvalidInput("corrupt_audio", "音频无法解码，文件可能已损坏或被截断。")
            info = AudioInfo(
                duration_seconds=duration,
                sample_rate=int(stream.codec_context.sample_rate or 0),
                channels=int(stream.codec_context.channels or 0),
                codec=codec,
                container=container.format.name,
            )
    except av.error.InvalidDataError as exc:
        raise UnsupportedMedia("not_audio", "无法识别的文件格式，请上传音频或视频文件。") from exc
    except av.error.FFmpegError as exc:
        raise InvalidInput("corrupt_audio", "音频无法解码，文件可能已损坏或被截断。") from exc
    if info.duration_seconds <= 0:
        raise InvalidInput("empty_audio", "录音时长为零。")
    if max_seconds is not None and info.duration_seconds > max_seconds:
        raise InvalidInput(
            "audio_too_long",
            f"录音时长超过上限（{max_seconds / 3600:.1f} 小时）。",
            details={"duration_seconds": info.duration_seconds, "max_seconds": max_seconds},
        )
    return info


def _decoder_name(stream: av.audio.AudioStream) -> str | None:
    """The decoder PyAV has for the stream; None when the codec is unknown to it."""
    try:
        codec = stream.codec_context.codec
    except (AttributeError, av.error.FFmpegError):
        return None
    return str(codec.name) if codec is not None else None


def _duration(container: av.container.InputContainer, stream: av.audio.AudioStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0
