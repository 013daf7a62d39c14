"""Load test on loopback against a real `taxassist serve` (SQLite by default).

N officers (default 30), each with an account and an 执法证件 of its own, loop for M minutes
(default 10): open a case, upload a short real Mandarin recording (shared/corpora/speech; the
server's transcription worker runs), ask for the discretion suggestion, draft the 告知书 and
the 决定书, download one, follow the job; the `reviewer` passes the legal review and the
`approver` approves. The server's RSS is sampled every few seconds from /proc.

Reports: requests and 5xx per route with p50/p95/max, RSS at the start and the end, the
min/max band and the trend (MiB/min, least squares) after the warm-up, the load average.

Usage: python benchmarks/load_test.py [--minutes 10] [--officers 30] [--json out.json]
       [--arena-max 2] [--database-url URL] [--think MIN MAX]
Needs `taxassist setup` done once for the models (`make setup-test`); the data dir is a new
temporary one with the demo fixture corpus as its index (built in about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import DEMO_CORPUS, SHARED_CORPORA, demo_case_payload  # noqa: E402

PASSWORD = "vanilla-kite-58-river"  # every load-test account (meets the password policy)
ADMIN_PASSWORD = "amber-lantern-73-quiet"
SPEECH = SHARED_CORPORA / "speech" / "wav"
RSS_EVERY_S = 5.0
CLI = [sys.executable, "-c", "from assistant.cli import main; main()"]
# ids in paths become {id}, so each route template is one row of the report
ID_IN_PATH = re.compile(r"/\d+(?=/|$)")


@dataclass
class Stats:
    """Latencies and statuses per route, shared by the officer threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    failures: list[str] = field(default_factory=list)
    flows: int = 0

    def add(self, route: str, seconds: float, status: int, detail: str) -> None:
        with self.lock:
            self.times[route].append(seconds)
            self.statuses[route][status] += 1
            if status >= 500 and len(self.failures) < 50:
                self.failures.append(f"{route} {status} {detail[:300]}")

    def report(self) -> dict[str, Any]:
        rows = {}
        for route, times in sorted(self.times.items()):
            ordered = sorted(times)
            rows[route] = {
                "requests": len(ordered),
                "statuses": dict(sorted(self.statuses[route].items())),
                "p50_s": round(statistics.median(ordered), 3),
                "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
                "max_s": round(ordered[-1], 3),
            }
        return rows


class Officer:
    """One signed-in account: every request is timed and counted under its route template."""

    def __init__(self, base: str, username: str, password: str, stats: Stats) -> None:
        self.client = httpx.Client(base_url=base, timeout=300.0)
        self.username, self.password, self.stats = username, password, stats
        self.headers: dict[str, str] = {}
        self.sign_in()

    def sign_in(self) -> None:
        response = self.request(
            "POST", "/auth/token", json={"username": self.username, "password": self.password}
        )
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        route = f"{method} {ID_IN_PATH.sub('/{id}', path)}"
        started = time.perf_counter()
        response = self.client.request(method, path, headers=self.headers, **kwargs)
        self.stats.add(route, time.perf_counter() - started, response.status_code, response.text)
        if response.status_code == 401 and not path.startswith("/auth/"):
            self.sign_in()  # the access token expired (15 minutes): sign in again, once
            return self.request(method, path, **kwargs)
        return response

    def ok(self, method: str, path: str, expected: int, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        if response.status_code != expected:
            raise FlowError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result


class FlowError(Exception):
    """A step answered something other than what the flow expects (counted, not fatal)."""


def one_case(officer: Officer, reviewer: Officer, approver: Officer, wav: Path) -> None:
    """A case from opening to approval, as an officer and the two signers do it."""
    case = officer.ok("POST", "/cases", 201, json=demo_case_payload())
    case_id = case["id"]
    with wav.open("rb") as handle:
        upload = officer.ok(
            "POST",
            f"/cases/{case_id}/recordings",
            202,
            files={"file": (wav.name, handle, "audio/wav")},
        )
    officer.ok("POST", f"/cases/{case_id}/discretion", 201)
    documents = [
        officer.ok("POST", f"/cases/{case_id}/documents", 201, json={"doc_type": doc_type})
        for doc_type in ("penalty_notice", "penalty_decision")
    ]
    officer.request("GET", f"/documents/{documents[0]['id']}/file")
    officer.ok("GET", f"/cases/{case_id}", 200)
    officer.ok("GET", f"/jobs/{upload['job']['id']}", 200)
    reviewer.ok(
        "POST",
        f"/cases/{case_id}/review",
        200,
        json={"result": "同意", "opinion": "事实清楚，证据确凿，适用依据正确。"},
    )
    approver.ok("POST", f"/cases/{case_id}/approve", 200, json={"opinion": "同意"})
    officer.ok("GET", f"/cases/{case_id}/events", 200)


def officer_loop(
    officer: Officer,
    signers: tuple[Officer, Officer],
    wavs: list[Path],
    deadline: float,
    stats: Stats,
    seed: int,
    think: tuple[float, float] = (0.5, 1.5),
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            one_case(officer, *signers, rng.choice(wavs))
            with stats.lock:
                stats.flows += 1
        except (FlowError, httpx.HTTPError) as exc:
            with stats.lock:
                if len(stats.failures) < 50:
                    stats.failures.append(f"{officer.username}: {exc}")
        time.sleep(rng.uniform(*think))  # an officer reads what came back


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"taxassist {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


@contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`taxassist serve` in its own process group; stopped with SIGINT (jobs requeue)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).is_success:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def prepare(env: dict[str, str], base: str, officers: int) -> None:
    """Accounts: `lo01`… officers with credentials, created by the admin over HTTP."""
    admin = httpx.Client(base_url=base, timeout=60)
    token = admin.post("/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for n in range(1, officers + 1):
        username = f"lo{n:02d}"
        body = {"username": username, "password": PASSWORD, "role": "officer"}
        admin.post("/users", json=body, headers=headers).raise_for_status()
        credential = {
            "username": username,
            "number": f"LOAD-{n:04d}",
            "issued_on": "2024-01-01",
            "valid_until": "2099-12-31",
        }
        admin.post("/credentials", json=credential, headers=headers).raise_for_status()
    admin.close()


def final_states(url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Transcription jobs and recordings by state at the end (read from the database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:

        def count(table: str) -> dict[str, int]:
            rows = connection.execute(text(f"SELECT status, count(*) FROM {table} GROUP BY 1"))
            return {str(status): int(n) for status, n in rows}

        jobs, recordings = count("jobs"), count("recordings")
    engine.dispose()
    return jobs, recordings


def trend(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time, MiB per minute."""
    if len(samples) < 2:
        return 0.0
    xs = [t / 60 for t, _ in samples]
    ys = [r for _, r in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    denominator = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / denominator


def run(
    minutes: float,
    officers: int,
    warmup_minutes: float,
    arena_max: int | None,
    database_url: str | None,
    keep: Path | None,
    index_from: Path | None = None,
    think: tuple[float, float] = (0.5, 1.5),
) -> dict[str, Any]:
    wavs = sorted(SPEECH.glob("*.wav"))
    if not wavs:
        raise SystemExit(f"no recordings under {SPEECH} (set TAXASSIST_SHARED_CORPORA)")
    data = Path(tempfile.mkdtemp(prefix="taxassist-load-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TAXASSIST_DATA_DIR": str(data / "data"),
        "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_PASSWORD": ADMIN_PASSWORD,
        "TAXASSIST_JOB_WORKERS": "1",
    }
    if arena_max is not None:
        env["TAXASSIST_MALLOC_ARENA_MAX"] = str(arena_max)
    if database_url:
        env["TAXASSIST_DATABASE_URL"] = database_url
    started_setup = time.monotonic()
    if index_from is not None:  # a prebuilt index of the same corpus (the tests' session one)
        shutil.copytree(index_from, data / "data" / "index")
        run_cli(env, "setup", "--no-index", "--json")
    else:
        run_cli(env, "setup", "--json")
    setup_s = time.monotonic() - started_setup
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stats = Stats()
    rss: list[tuple[float, float]] = []
    loads: list[list[float]] = []
    try:
        with server(env, port, data / "server.log") as process:
            prepare(env, base, officers)
            signers = (
                Officer(base, "reviewer", ADMIN_PASSWORD, stats),
                Officer(base, "approver", ADMIN_PASSWORD, stats),
            )
            team = [Officer(base, f"lo{n:02d}", PASSWORD, stats) for n in range(1, officers + 1)]
            begin = time.monotonic()
            deadline = begin + minutes * 60
            threads = [
                threading.Thread(
                    target=officer_loop,
                    args=(o, signers, wavs, deadline, stats, n, think),
                    daemon=True,
                )
                for n, o in enumerate(team)
            ]
            for thread in threads:
                thread.start()
            while any(t.is_alive() for t in threads):
                rss.append((time.monotonic() - begin, rss_mib(process.pid)))
                loads.append(load_average())
                time.sleep(RSS_EVERY_S)
            elapsed = time.monotonic() - begin
            rss.append((elapsed, rss_mib(process.pid)))
            with httpx.Client(base_url=base, timeout=60) as client:
                token = client.post(
                    "/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}
                ).json()["access_token"]
                statuses = sorted(
                    {
                        j["status"]
                        for j in client.get(
                            "/cases", headers={"Authorization": f"Bearer {token}"}
                        ).json()
                    }
                )
        jobs, recordings = final_states(
            database_url or f"sqlite:///{data / 'data' / 'taxassist.db'}"
        )
    finally:
        if keep is not None:
            shutil.copy(data / "server.log", keep)
        shutil.rmtree(data, ignore_errors=True)
    routes = stats.report()
    after = [(t, r) for t, r in rss if t >= warmup_minutes * 60]
    server_errors = sum(
        n for row in routes.values() for code, n in row["statuses"].items() if code >= 500
    )
    return {
        "minutes": round(elapsed / 60, 2),
        "officers": officers,
        "think_s": list(think),
        "database": "postgresql" if database_url else "sqlite",
        "malloc_arena_max": arena_max,
        "setup_s": round(setup_s, 1),
        "flows_completed": stats.flows,
        "case_statuses": statuses,
        "jobs": jobs,
        "recordings": recordings,
        "requests": sum(row["requests"] for row in routes.values()),
        "server_errors": server_errors,
        "failures": stats.failures,
        "routes": routes,
        "rss_mib": {
            "start": round(rss[0][1], 1),
            "end": round(rss[-1][1], 1),
            "warmup_minutes": warmup_minutes,
            "after_warmup_min": round(min(r for _, r in after), 1) if after else None,
            "after_warmup_max": round(max(r for _, r in after), 1) if after else None,
            "trend_mib_per_min": round(trend(after), 2),
            "samples": [(round(t, 1), round(r, 1)) for t, r in rss],
        },
        "load_average": {
            "start": loads[0] if loads else None,
            "end": load_average(),
            "max_1min": max(x[0] for x in loads) if loads else None,
        },
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| route | requests | 5xx | p50 s | p95 s | max s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route, row in result["routes"].items():
        errors = sum(n for code, n in row["statuses"].items() if int(code) >= 500)
        lines.append(
            f"| `{route}` | {row['requests']} | {errors} | {row['p50_s']} | {row['p95_s']} "
            f"| {row['max_s']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--officers", type=int, default=30)
    parser.add_argument("--warmup-minutes", type=float, default=2.0)
    parser.add_argument("--arena-max", type=int, default=None, help="default: the setting's")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the full result here")
    parser.add_argument("--server-log", type=Path, default=None, help="keep the server log")
    parser.add_argument("--index-from", type=Path, default=None, help="a prebuilt demo index")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.5, 1.5),
        metavar=("MIN", "MAX"),
        help="seconds an officer pauses between cases (uniform); the default is a stress pace",
    )
    args = parser.parse_args()
    result = run(
        args.minutes,
        args.officers,
        args.warmup_minutes,
        args.arena_max,
        args.database_url,
        args.server_log,
        args.index_from,
        tuple(args.think),
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    summary = {k: v for k, v in result.items() if k not in ("routes",)}
    summary["rss_mib"] = {k: v for k, v in result["rss_mib"].items() if k != "samples"}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(markdown(result))
    sys.exit(1 if result["server_errors"] else 0)


if __name__ == "__main__":
    main()
