"""What every `taxassist` command module shares: settings, services, JSON output, the actor.

The main CLI (`assistant.cli`) mounts the sub-commands of `assistant.record.cli` and
`assistant.cases.escalation_cli`; they take these helpers from here, not from it, so no
command module imports the one that mounts it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from assistant.config import Settings, get_settings
from assistant.errors import NotFound, TaxAssistError


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


def require_job_succeeded(services: Any, job_id: int, status: str) -> None:
    """A job that did not succeed is an error with its own code and message."""
    from assistant.jobs import load_job

    if status == "succeeded":
        return
    with services.db.session() as session:
        job = load_job(session, job_id)
        raise TaxAssistError(
            job.error_code or f"job_{status}",
            job.error_message or f"任务未完成（{status}）。",
            details={"job_id": job_id, "status": status},
        )


def run_job_with_bar(
    services: Any,
    job_id: int,
    description: str,
    measure: Callable[[Any], tuple[float, float | None]],
    *,
    quiet: bool,
) -> str:
    """Run the job here; `measure(job)` (done, total) read from the stored job drives a bar
    with ETA on stderr (none under --json or without a terminal). Returns the final status."""
    from assistant.jobs import load_job, run_job
    from assistant.progress import ProgressBar, wanted

    if not wanted(not quiet):
        return run_job(services, job_id)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["status"] = run_job(services, job_id)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"job-{job_id}", daemon=True)
    with ProgressBar(description, None) as bar:
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            with services.db.session() as session:
                done, total = measure(load_job(session, job_id))
                if total:
                    bar.update(done, total=total)
    if "error" in outcome:
        raise outcome["error"]
    return str(outcome["status"])
