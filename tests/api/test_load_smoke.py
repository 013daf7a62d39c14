"""The load test, short: a real `taxassist serve` on loopback, 5 officers for about a minute,
real recordings transcribed by the server's worker, drafting, review and approval.

The 10-minute run with 30 officers is `benchmarks/load_test.py` (docs/benchmarks.md); this
one keeps the script working in CI and fails on any 5xx or unexpected answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fresh_database_url, requires_shared

pytestmark = [pytest.mark.e2e, requires_shared]

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load_test.py"
FLOW_ROUTES = {
    "POST /cases",
    "POST /cases/{id}/recordings",
    "POST /cases/{id}/discretion",
    "POST /cases/{id}/documents",
    "GET /documents/{id}/file",
    "GET /jobs/{id}",
    "POST /cases/{id}/review",
    "POST /cases/{id}/approve",
    "GET /cases/{id}/events",
}


def test_one_minute_of_five_officers_gets_no_server_error(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    out = tmp_path / "load.json"
    options = ["--minutes", "1", "--officers", "5", "--warmup-minutes", "0.25", "--json", str(out)]
    database_url = fresh_database_url()  # under TAXASSIST_TEST_DATABASE=postgresql
    if database_url:
        options += ["--database-url", database_url]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *options, "--index-from", str(shared_index_dir)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.exists(), done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["server_errors"] == 0, result["failures"]
    assert result["failures"] == []  # every step answered what the flow expects
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(result["routes"]) >= FLOW_ROUTES
    assert result["flows_completed"] >= 5  # each officer took at least one case to approval
    assert "approved" in result["case_statuses"]
    rss = result["rss_mib"]
    assert len(rss["samples"]) >= 3 and rss["start"] > 50 and rss["end"] > 50
    assert result["malloc_arena_max"] is None  # the server's own default setting applied
