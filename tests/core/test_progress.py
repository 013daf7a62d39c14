"""Progress bars: quiet off a terminal (pipes, --json), totals that add up across calls."""

from __future__ import annotations

import pytest

from assistant import progress
from assistant.progress import CumulativeBar, ProgressBar, track


def test_quiet_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(track(range(3), "quiet")) == [0, 1, 2]
    with ProgressBar("quiet", 3) as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


def test_disabled_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True)
    assert progress.wanted(True) is True
    assert progress.wanted(False) is False  # what --json passes


def test_cumulative_bar_adds_each_calls_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "wanted", lambda enabled=True: enabled)
    with CumulativeBar("嵌入语料") as bar:
        bar(0, 10)
        bar(6, 10)
        bar(10, 10)
        bar(0, 5)
        bar(2, 5)
        assert bar.state == (12, 15)
        bar(5, 5)
        assert bar.state == (15, 15)
    with ProgressBar("off", 3, enabled=False) as off:
        assert off.state is None
