"""Enforcement credentials (执法证件): who may act on a case, and until when.

行政处罚法第四十二条: 行政处罚应当由具有行政执法资格的执法人员实施. Every recorded action on a
case needs a credential valid on the day, whatever the role: an admin account is a system
role, and an admin who acts on a case acts as an enforcement officer and needs one too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.dates import today_in_china
from assistant.db.models import OfficerCredential, User
from assistant.errors import Conflict, Forbidden, InvalidInput, NotFound

SOURCE = "行政处罚法第四十二条（行政处罚应当由具有行政执法资格的执法人员实施）"


def add_credential(
    session: Session, username: str, *, number: str, issued_on: date, valid_until: date
) -> OfficerCredential:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", f"用户“{username}”不存在。")
    number = number.strip()
    if not number:
        raise InvalidInput("missing_credential_number", "请填写执法证件号码。")
    if valid_until < issued_on:
        raise InvalidInput("invalid_credential_period", "执法证件有效期截止日早于发证日。")
    if session.scalar(select(OfficerCredential).where(OfficerCredential.number == number)):
        raise Conflict("credential_exists", f"执法证件号码 {number} 已登记。")
    credential = OfficerCredential(
        user_id=user.id, number=number, issued_on=issued_on, valid_until=valid_until
    )
    session.add(credential)
    session.flush()
    return credential


def revoke_credential(session: Session, number: str) -> OfficerCredential:
    credential = session.scalar(select(OfficerCredential).where(OfficerCredential.number == number))
    if credential is None:
        raise NotFound("credential_not_found", f"执法证件 {number} 未登记。")
    credential.revoked = True
    return credential


def valid_credential(session: Session, user_id: int, on: date) -> OfficerCredential | None:
    return session.scalar(
        select(OfficerCredential)
        .where(
            OfficerCredential.user_id == user_id,
            OfficerCredential.revoked.is_(False),
            OfficerCredential.issued_on <= on,
            OfficerCredential.valid_until >= on,
        )
        .order_by(OfficerCredential.valid_until.desc())
        .limit(1)
    )


def require_credential(session: Session, actor: User, on: date | None = None) -> str:
    """The number of the actor's valid credential; 403 without one, whatever the role."""
    when = on or today_in_china()
    credential = valid_credential(session, actor.id, when)
    if credential is None:
        raise Forbidden(
            "no_valid_credential",
            f"用户“{actor.username}”在 {when} 没有有效的执法证件，不能实施执法行为。",
            details={"rule": "credential_required", "source": SOURCE, "on": when.isoformat()},
        )
    return credential.number


def credentials_of(session: Session, username: str) -> list[dict[str, Any]]:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", f"用户“{username}”不存在。")
    today = today_in_china()
    rows = session.scalars(
        select(OfficerCredential)
        .where(OfficerCredential.user_id == user.id)
        .order_by(OfficerCredential.id)
    )
    return [
        {
            "number": c.number,
            "issued_on": c.issued_on.isoformat(),
            "valid_until": c.valid_until.isoformat(),
            "revoked": c.revoked,
            "valid_today": not c.revoked and c.issued_on <= today <= c.valid_until,
        }
        for c in rows
    ]
