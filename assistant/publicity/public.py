"""What anyone may read without signing in: the feed of published decisions, the progress of
a party's pending matter (非即办事项办理进度查询) by case number and check code, and the
information published before enforcement (事前公示: authority, officers, powers, procedure,
remedies), all from data the system holds.

The check code is an HMAC of the case number under a secret kept with the signing keys, so
it needs no table, cannot be guessed from the number, and is compared in constant time;
wrong codes are counted per client address and per case number and lock both for a while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select

from assistant.auth.throttle import LoginLimits, clear, count_attempt
from assistant.cases.lifecycle import ACTION_EVENTS, STAGES
from assistant.config import Settings
from assistant.dates import to_china_time, today_in_china
from assistant.db.models import Case, CaseEvent, OfficerCredential, Publication, User
from assistant.db.types import utcnow
from assistant.errors import NotFound, RateLimited
from assistant.publicity.rules import load_rules
from assistant.publicity.service import record_fields, record_type
from assistant.record.event_kinds import event_name
from assistant.services import Services

CODE_LENGTH = 12  # base32 characters: 60 bits
INQUIRY_SCOPES = ("inquiry", "inqcase")  # throttle rows: per address, per case number
# Stages after which nothing is pending any more.
FINISHED = frozenset({"closed", "referred"})
# The steps of the procedure the public sees, besides every change of stage.
LIFECYCLE_EVENTS = frozenset(ACTION_EVENTS.values())
# Each record type's fields with their labels (corpora/publicity/rules.yaml, records).
FIELD_NAMES = {key: record.fields for key, record in load_rules().records.items()}


def _secret(settings: Settings) -> bytes:
    """The inquiry secret (32 random bytes, file mode 0600 next to the signing keys)."""
    path = settings.keys_dir / "inquiry.secret"
    if not path.exists():
        settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # written whole under a temporary name, then linked: a concurrent worker either links
        # first (this one reads that secret) or finds the complete file, never a partial one
        tmp = path.with_name(f"inquiry.secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


def check_code(settings: Settings, case_number: str) -> str:
    """The case's check code, printed on the party's notices (查询码)."""
    digest = hmac.new(_secret(settings), case_number.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]


def _limits(settings: Settings) -> LoginLimits:
    return LoginLimits(
        window=timedelta(seconds=settings.inquiry_lockout_seconds),
        lockout=timedelta(seconds=settings.inquiry_lockout_seconds),
        max_account_failures=settings.inquiry_max_failures,
        max_address_failures=settings.inquiry_max_failures,
    )


def _not_found() -> NotFound:
    # one answer for an unknown case number and a wrong code: the number's existence is not told
    return NotFound("inquiry_not_found", "案件编号或查询码不正确。")


def progress(services: Services, case_number: str, code: str, address: str) -> dict[str, Any]:
    """The stage of the party's case and the dates of its steps, without officers' names."""
    settings = services.settings
    number = case_number.strip()
    keys = {INQUIRY_SCOPES[0]: address[:128], INQUIRY_SCOPES[1]: number[:128]}
    limits = _limits(settings)
    with services.db.session() as session:
        try:
            count_attempt(session, keys, limits, utcnow())
        except RateLimited as exc:
            raise RateLimited(
                "too_many_inquiries",
                "查询次数过多，请稍后再试。",
                retry_after_seconds=exc.retry_after_seconds,
            ) from exc
    expected = check_code(settings, number)
    given = code.strip().upper().encode("ascii", "replace")
    matches = hmac.compare_digest(expected.encode("ascii"), given)
    with services.db.session() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        if case is None or not matches:
            raise _not_found()
        for scope, key in keys.items():
            clear(session, scope, key)
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
        steps = [
            {
                "on": to_china_time(e.created_at).date().isoformat(),
                "step": event_name(e.action),
                "stage": STAGES.get(e.state_after or "", None),
            }
            for e in events
            if e.state_before != e.state_after or e.action in LIFECYCLE_EVENTS
        ]
        return {
            "case_number": case.number,
            "stage": case.status,
            "stage_name": STAGES.get(case.status, case.status),
            "pending": case.status not in FINISHED,
            "updated_on": to_china_time(case.updated_at).date().isoformat(),
            "steps": steps,
        }


def feed(services: Services) -> dict[str, Any]:
    """Published decisions (newest first) and the withdrawals with their reasons
    (行政处罚法第四十八条第二款: 撤回并公开说明理由). Only masked fields leave."""
    reasons = load_rules().withdrawal_reasons
    with services.db.session() as session:
        rows = list(
            session.scalars(
                select(Publication)
                .where(Publication.status.in_(("published", "withdrawn")))
                .order_by(Publication.published_at.desc(), Publication.id.desc())
            )
        )
        items = [
            {
                "id": r.id,
                "kind": r.kind,
                "record_type": record_type(r),
                "fields": {k: r.fields.get(k, "") for k in record_fields(r)},
                "published_at": r.published_at.isoformat() if r.published_at else None,
            }
            for r in rows
            if r.status == "published"
        ]
        withdrawals = [
            {
                "id": r.id,
                "kind": r.kind,
                "document_number": r.fields.get("document_number", ""),
                "withdrawn_on": to_china_time(r.withdrawn_at).date().isoformat()
                if r.withdrawn_at
                else None,
                "reason": reasons.get(r.withdrawal_reason or "", r.withdrawal_reason or ""),
            }
            for r in rows
            if r.status == "withdrawn" and r.published_at is not None  # a draft never was public
        ]
    return {
        "authority": services.settings.authority_name,
        "items": items,
        "withdrawals": withdrawals,
    }


def rss(services: Services, base_url: str) -> str:
    """The feed as RSS 2.0 (every text escaped)."""
    data = feed(services)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(data['authority'])} 行政执法决定公示</title>",
        f"<link>{escape(base_url)}public/publications</link>",
        "<description>已公开的税务行政执法决定信息</description>",
    ]
    for item in data["items"]:
        fields = item["fields"]
        names = FIELD_NAMES[item["record_type"]]
        body = "\n".join(f"{names[k]}：{value}" for k, value in fields.items())
        published = datetime.fromisoformat(item["published_at"]) if item["published_at"] else None
        parts += [
            "<item>",
            f"<title>{escape(item['kind'])}：{escape(fields['document_number'])}</title>",
            f'<guid isPermaLink="false">publication-{item["id"]}</guid>',
            f"<description>{escape(body)}</description>",
            f"<pubDate>{format_datetime(published)}</pubDate>" if published else "",
            "</item>",
        ]
    parts.append("</channel></rss>")
    return "\n".join(p for p in parts if p)


def pre_enforcement(services: Services) -> dict[str, Any]:
    """事前公示 from the system's data: the authority, officers holding a valid 执法证件 today,
    powers, the procedure's stages and the remedies (税总发〔2019〕31号 四(一)1)."""
    settings = services.settings
    rules = load_rules()
    today = today_in_china()
    with services.db.session() as session:
        rows = session.execute(
            select(User.display_name, OfficerCredential.number, OfficerCredential.valid_until)
            .join(OfficerCredential, OfficerCredential.user_id == User.id)
            .where(
                User.active.is_(True),
                OfficerCredential.revoked.is_(False),
                OfficerCredential.issued_on <= today,
                OfficerCredential.valid_until >= today,
            )
            .order_by(User.display_name, OfficerCredential.number)
        ).all()
    return {
        "authority": settings.authority_name,
        "reconsideration_body": settings.reconsideration_body,
        "officers": [
            {"name": name, "credential_number": number, "valid_until": until.isoformat()}
            for name, number, until in rows
        ],
        "powers": list(rules.powers),
        "procedure": [{"stage": code, "name": name} for code, name in STAGES.items()],
        "remedies": list(rules.remedies),
        "publication": {
            "working_days": settings.publication_working_days,
            "other_working_days": settings.publication_other_working_days,
            "withdrawal_working_days": settings.withdrawal_working_days,
            "source": rules.publish_source,
        },
        "as_of": today.isoformat(),
    }
