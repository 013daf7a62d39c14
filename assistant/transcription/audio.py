"""Probe uploads with PyAV (no system ffmpeg): is it audio, how long, which codec."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import av

from assistant.errors import InvalidInput, TaxAssistError, UnsupportedMedia

# RIFF data sizes that mean "unknown" (streaming writers, RF64): nothing stated to check.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


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
    stated = wav_stated_seconds(path)
    if stated is not None and truncated(stated[0], stated[1]):
        raise truncated_error(*stated)
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


def truncated(stated_seconds: float, decoded_seconds: float) -> bool:
    """The one rule: shorter than the container states by more than 2 s or 3 %."""
    return decoded_seconds < stated_seconds - max(2.0, 0.03 * stated_seconds)


def truncated_error(
    stated_seconds: float, decoded_seconds: float, error: type[TaxAssistError] = InvalidInput
) -> TaxAssistError:
    return error(
        "audio_truncated",
        f"录音文件不完整：标称 {stated_seconds:.0f} 秒，只能解码出 {decoded_seconds:.0f} 秒，"
        "文件可能在拷贝或上传时被截断，请上传完整的原始录音。",
        details={"declared_seconds": stated_seconds, "decoded_seconds": decoded_seconds},
    )


def wav_stated_seconds(path: Path) -> tuple[float, float] | None:
    """(stated, present) seconds of a RIFF/WAVE file from its own header, or None.

    FFmpeg sizes a WAV by the bytes present, so a cut file looks complete to it; the `data`
    chunk's size and the `fmt ` byte rate still say how long the recording was.
    """
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        size = path.stat().st_size
        byte_rate = 0
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                return None
            kind, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"fmt ":
                body = handle.read(min(length, 16))
                if len(body) < 12:
                    return None
                byte_rate = struct.unpack("<I", body[8:12])[0]
                handle.seek(length - len(body) + (length & 1), 1)
            elif kind == b"data":
                if byte_rate <= 0 or length in _UNKNOWN_SIZES:
                    return None
                present = max(0, size - handle.tell())
                return length / byte_rate, min(length, present) / byte_rate
            else:
                handle.seek(length + (length & 1), 1)
