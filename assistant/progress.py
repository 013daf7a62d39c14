"""Progress bars with ETA for long commands (index build, eval, transcription), drawn by rich.

Bars go to stderr and only when asked and stderr is a terminal: `--json` output and piped or
logged runs stay clean. Work that reports its own progress uses `ProgressBar` as a callback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Self, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def wanted(enabled: bool = True) -> bool:
    """True when a bar should be drawn: asked for, and stderr is an interactive terminal."""
    return enabled and sys.stderr.isatty()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
        # work arrives in chunks (64 texts, a segment of audio) minutes apart under load: rich's
        # default 30 s window would often hold one sample and show no ETA
        speed_estimate_period=900,
    )


class ProgressBar:
    """A bar advanced by callbacks: `with ProgressBar("转写", total) as bar: bar.update(done)`.

    Does nothing when not `wanted`, so callers need no branches of their own.
    """

    def __init__(self, description: str, total: float | None, *, enabled: bool = True) -> None:
        self.description = description
        self.total = total
        self._progress = _progress() if wanted(enabled) else None
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, completed: float, total: float | None = None) -> None:
        """Set the amount done (and the total, when it became known only now)."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=completed, total=total or self.total)

    @property
    def state(self) -> tuple[float, float | None] | None:
        """(completed, total) as drawn; None when no bar is drawn."""
        if self._progress is None or self._task is None:
            return None
        task = self._progress.tasks[0]
        return task.completed, task.total

    def advance(self, step: float = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, step)


class CumulativeBar(ProgressBar):
    """A bar fed `progress(done, total)` by several calls in turn (statutes, then cases): each
    call's (0, total) adds its total, so the bar and its ETA cover all work announced so far."""

    def __init__(self, description: str, *, enabled: bool = True) -> None:
        super().__init__(description, None, enabled=enabled)
        self._base = 0
        self._grand = 0
        self._last = 0

    def __call__(self, done: int, total: int) -> None:
        if done == 0:
            self._base += self._last
            self._grand += total
            self._last = 0
        self._last = done
        self.update(self._base + done, total=self._grand)


def track(
    items: Sequence[T] | Iterable[T], description: str, *, enabled: bool = True
) -> Iterator[T]:
    """Iterate `items` with a bar (total known for sequences)."""
    total = len(items) if isinstance(items, Sequence) else None
    with ProgressBar(description, total, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.advance()
