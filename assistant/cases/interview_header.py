"""The 询问笔录 header from what the system knows: the case, the recording and the settings.

Time comes from the recording itself (the recorder's creation-time tag); without one, the
upload time stands in, marked 【待核：…】 like every other guess in the draft. The place is the
configured interview room (default: the authority), the interviewers the case's handling
officer and any other officer recognised by voiceprint, the recorder the officer who uploaded
the recording, the interviewee the taxpayer (an organisation's legal representative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import av
from sqlalchemy.orm import Session

from assistant.cases.credentials import valid_credential
from assistant.config import Settings
from assistant.db.models import Case, Recording, User

CHINA = ZoneInfo("Asia/Shanghai")
_TAGS = ("creation_time", "date", "ICRD")


@dataclass(frozen=True)
class InterviewHeader:
    """The 询问笔录 header fields; what the system does not know stays blank for the officer."""

    started: str = ""
    ended: str = ""
    place: str = ""
    interviewers: tuple[tuple[str, str], ...] = ()  # (name, 执法证号 or "" without a credential)
    recorder: str = ""
    interviewee: str = ""
    interviewee_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def recorded_at(path: Path) -> datetime | None:
    """When the recorder says the recording started (UTC), from the container's tags."""
    try:
        with av.open(str(path)) as container:
            tags = dict(container.metadata)
            for stream in container.streams.audio:
                tags.update({k: v for k, v in stream.metadata.items() if k not in tags})
    except (av.error.FFmpegError, OSError):
        return None
    for key in _TAGS:
        value = (tags.get(key) or "").strip()
        if len(value) < 16:  # a bare date says nothing about the time of day
            continue
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        # a tag without a zone is the recorder's local (China) time
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA)).astimezone(UTC)
    return None


def _clock(moment: datetime, *, with_date: bool) -> str:
    local = moment.astimezone(CHINA)
    time = f"{local.hour}时{local.minute:02d}分"
    return f"{local.year}年{local.month}月{local.day}日{time}" if with_date else time


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}小时" if hours else "") + f"{minutes}分{secs}秒"


def _officer(session: Session, user: User, on: datetime) -> tuple[str, str]:
    credential = valid_credential(session, user.id, on.astimezone(CHINA).date())
    return user.display_name, credential.number if credential else ""


def build_header(
    session: Session, settings: Settings, case: Case, recording: Recording, path: Path
) -> InterviewHeader:
    start = recorded_at(path)
    guessed = start is None
    if start is None:
        uploaded = recording.created_at
        start = (uploaded if uploaded.tzinfo else uploaded.replace(tzinfo=UTC)) - timedelta(
            seconds=recording.duration_seconds
        )
    end = start + timedelta(seconds=recording.duration_seconds)
    started = _clock(start, with_date=True)
    ended = _clock(end, with_date=start.astimezone(CHINA).date() != end.astimezone(CHINA).date())
    if guessed:
        started, ended = f"【待核：{started}】", f"【待核：{ended}】"
    officers = [case.officer]
    matched = ((recording.model or {}).get("diarization") or {}).get("matched_users") or {}
    for label in sorted(matched):
        user = session.get(User, int(matched[label]))
        if user is not None and user not in officers:
            officers.append(user)
    uploader = session.get(User, recording.uploaded_by)
    taxpayer = case.taxpayer
    individual = taxpayer.kind == "individual"
    extra = {} if individual else {"被询问单位": f"{taxpayer.name}（{taxpayer.uscc}）"}
    source = "录音文件记录的录制时间" if not guessed else "上传时间减录音时长（文件未记录录制时间）"
    extra["录音"] = (
        f"{recording.original_filename}，时长{_duration(recording.duration_seconds)}，"
        f"时间依据：{source}"
    )
    return InterviewHeader(
        started=started,
        ended=ended,
        place=settings.interview_place or settings.authority_name,
        interviewers=tuple(_officer(session, u, start) for u in officers),
        recorder=uploader.display_name if uploader else "",
        interviewee=taxpayer.name if individual else taxpayer.legal_representative or "",
        interviewee_id=taxpayer.uscc if individual else "",
        extra=extra,
    )
