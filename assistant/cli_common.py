"""What every `taxassist` command module shares: settings, services, JSON output, the actor.

The main CLI (`assistant.cli`) mounts the sub-commands of `assistant.record.cli` and
`assistant.cases.escalation_cli`; they take these helpers from here, not from it, so no
command module imports the one that mounts it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from assistant.config import Settings, get_settings
from assistant.errors import NotFound


def cli_settings(corpus: list[Path] | None = None) -> Settings:
    """The settings, with --corpus dirs in place of TAXASSIST_CORPORA when given."""
    settings = get_settings()
    if corpus:
        settings = settings.model_copy(update={"corpora": ":".join(str(p) for p in corpus)})
    return settings


def cli_services(corpus: list[Path] | None = None) -> Any:
    """The services of these settings, database migrated."""
    from assistant.services import build_services

    services = build_services(cli_settings(corpus))
    services.db.migrate()
    return services


def print_json(data: Any) -> None:
    """Print as indented JSON (Chinese kept, dates ISO, money with 2 places)."""
    typer.echo(json.dumps(to_plain(data), ensure_ascii=False, indent=2))


def to_plain(value: Any) -> Any:
    """Dataclasses, dates and Decimals as JSON values."""
    if hasattr(value, "__dataclass_fields__"):
        return to_plain(asdict(value))
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def user_named(services: Any, username: str) -> Any:
    """The user acting (`--as`); user_not_found when there is none."""
    from sqlalchemy import select

    from assistant.db import User

    with services.db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound("user_not_found", f"用户“{username}”不存在。")
        return user
