"""文号 allocation: sequential per authority prefix, document kind and year, no gaps, no duplicates.

The counter row is incremented inside the same transaction that inserts the document, so a
rolled-back draft returns its number and concurrent requests serialize on the row lock.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.db.models import DocNumberCounter


def next_sequence(session: Session, *, prefix: str, kind: str, year: int) -> int:
    for _ in range(3):
        result = session.execute(
            update(DocNumberCounter)
            .where(
                DocNumberCounter.prefix == prefix,
                DocNumberCounter.kind == kind,
                DocNumberCounter.year == year,
            )
            .values(last=DocNumberCounter.last + 1)
            .returning(DocNumberCounter.last)
        ).scalar_one_or_none()
        if result is not None:
            return int(result)
        try:
            with session.begin_nested():
                session.add(DocNumberCounter(prefix=prefix, kind=kind, year=year, last=0))
        except IntegrityError:
            continue  # another transaction created it first; increment theirs
    raise RuntimeError("could not allocate a document number")


def format_doc_number(prefix: str, kind: str, year: int, sequence: int) -> str:
    """示税稽 + 罚 + 〔2026〕 + 12号, as real documents print it."""
    return f"{prefix}{kind}〔{year}〕{sequence}号"


def current_sequence(session: Session, *, prefix: str, kind: str, year: int) -> int:
    row = session.scalar(
        select(DocNumberCounter.last).where(
            DocNumberCounter.prefix == prefix,
            DocNumberCounter.kind == kind,
            DocNumberCounter.year == year,
        )
    )
    return int(row or 0)
