"""The deployment topology of `deploy/compose.yaml`, started from local processes on loopback.

Why: the compose file cannot be started where there is no registry to pull images from (CI
here), yet the multi-process behaviour it describes (several API replicas and Celery workers
on one PostgreSQL, one Redis, one file store and one index directory) must be exercised. This
starts the same pieces as plain processes: a throwaway PostgreSQL and Redis
(`assistant.localservers`), the set-up step once (`taxassist setup`: migrations, models, demo
users, the index), `taxassist serve` replicas on free ports and Celery workers
(`python -m assistant.jobs.worker`, what `taxassist worker` runs), all sharing one data
directory; it waits until every replica answers `GET /ready` with 200 and stops everything on
exit. `scripts/topology.py` runs it for an operator; the topology test
(`tests/deploy/test_topology.py`) drives a case through it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import PROJECT_ROOT
from assistant.localservers import (
    ServerUnavailable,
    free_port,
    postgres_bin_dir,
    throwaway_postgres,
    throwaway_redis,
)

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 10.0


def taxassist_command() -> list[str]:
    """The `taxassist` console script of this interpreter, else the same entry point by -c."""
    script = Path(sys.executable).parent / "taxassist"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from assistant.cli import main; main()"]


@dataclass
class Topology:
    """The running pieces: URLs, the shared data dir and each process by name."""

    root: Path
    database_url: str
    broker_url: str
    env: dict[str, str]
    api_urls: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per start-up phase

    @property
    def data_dir(self) -> Path:
        return Path(self.env["TAXASSIST_DATA_DIR"])

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def logs(self, tail: int = 3000) -> str:
        """The end of every process's log, for a failure message."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
            for path in sorted((self.root / "logs").glob("*.log"))
        )

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """One `taxassist` process with the shared environment, its output in logs/NAME.log."""
        return self.spawn(name, [*taxassist_command(), *args])

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            argv,
            cwd=self.root,
            env=self.env,
            stdout=self.log(name).open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches this script, which stops it
        )
        self.processes[name] = proc
        return proc

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        """One Celery worker, `--pool=solo`: the entry point of `taxassist worker`, without
        importing every CLI command first. A benchmark adds workers to a running topology."""
        return self.spawn(name, [sys.executable, "-m", "assistant.jobs.worker", "--pool=solo"])

    def workers(self) -> dict[str, subprocess.Popen[bytes]]:
        return {n: p for n, p in self.processes.items() if n.startswith("worker-")}

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until every replica's `/ready` is 200 and every worker has said it is ready."""
        deadline = time.monotonic() + timeout
        pending = set(self.api_urls) | set(self.workers())
        while pending:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode})\n{self.logs()}")
            for item in sorted(pending):
                if item in self.api_urls:
                    done = ready(item) == 200
                else:  # Celery's own line once the worker consumes
                    done = " ready." in self.log(item).read_text(errors="replace")
                if done:
                    pending.discard(item)
            if pending and time.monotonic() > deadline:
                waiting = ", ".join(sorted(pending))
                raise RuntimeError(f"not ready within {timeout} s: {waiting}\n{self.logs()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM to every process (workers warm-stop, servers drain), SIGKILL after a wait."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT_S)


def ready(base_url: str) -> int | None:
    """The status of `GET /ready` (None when nothing answers)."""
    try:
        with urllib.request.urlopen(f"{base_url}/ready", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


@contextlib.contextmanager
def local_topology(
    root: Path,
    *,
    replicas: int = 2,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    index_from: Path | None = None,
) -> Iterator[Topology]:
    """Start the topology under `root` (data/ and logs/); stop and remove the servers after.

    `env` adds `TAXASSIST_*` settings for every process; `index_from` copies a prebuilt index
    into the data dir instead of building it in the set-up step.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise ServerUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(`make system-deps-test` installs Debian's postgresql)"
        )
    (root / "logs").mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    began = time.monotonic()
    with throwaway_postgres(bin_dir, max_connections=100) as database_url, throwaway_redis() as r:
        broker_url = f"{r}/0"
        servers = time.monotonic()
        shared = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "TAXASSIST_DATA_DIR": str(data_dir),
            "TAXASSIST_DATABASE_URL": database_url,
            "TAXASSIST_FILE_STORE": "local",
            "TAXASSIST_FILE_STORE_ROOT": str(data_dir / "blobs"),
            "TAXASSIST_JOB_BACKEND": "celery",
            "TAXASSIST_BROKER_URL": broker_url,
            **(env or {}),
        }
        topology = Topology(root, database_url, broker_url, shared)
        topology.timings["servers"] = round(servers - began, 2)
        try:
            if index_from is not None and not (data_dir / "index").exists():
                shutil.copytree(index_from, data_dir / "index")
            # Workers start with the set-up step: they take jobs only once a replica submits
            # one, and their sweeper retries while the schema is not there yet.
            for n in range(workers):
                topology.start_worker(f"worker-{n}")
            setup = topology.start("setup", "setup", *(["--no-index"] if index_from else []))
            if setup.wait() != 0:
                raise RuntimeError(f"taxassist setup failed\n{topology.logs()}")
            del topology.processes["setup"]
            topology.timings["setup"] = round(time.monotonic() - servers, 2)
            started = time.monotonic()
            for n in range(replicas):
                port = free_port()
                topology.start(f"api-{n}", "serve", "--host", "127.0.0.1", "--port", str(port))
                topology.api_urls.append(f"http://127.0.0.1:{port}")
            topology.wait_ready()
            topology.timings["ready"] = round(time.monotonic() - started, 2)
            yield topology
        finally:
            topology.stop()


def main(argv: list[str] | None = None) -> int:
    """`python scripts/topology.py [ROOT]`: start, print the URLs as JSON, run until a signal."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("root", nargs="?", type=Path, help="working dir (default: a temp dir)")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--index-from", type=Path, help="copy this prebuilt index")
    args = parser.parse_args(argv)
    root = args.root or Path(tempfile.mkdtemp(prefix="taxassist-topology-"))

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    try:
        with local_topology(
            root.resolve(),
            replicas=args.replicas,
            workers=args.workers,
            index_from=args.index_from,
        ) as topology:
            summary = {
                "api": topology.api_urls,
                "database": topology.database_url,
                "broker": topology.broker_url,
                "data_dir": str(topology.data_dir),
                "logs": str(root / "logs"),
                "pids": {name: proc.pid for name, proc in topology.processes.items()},
                "start_seconds": topology.timings,
            }
            print(json.dumps(summary, indent=2), flush=True)
            while all(proc.poll() is None for proc in topology.processes.values()):
                time.sleep(1)
            dead = [n for n, p in topology.processes.items() if p.poll() is not None]
            print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    except ServerUnavailable as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
