"""glibc malloc tuning, measured in fresh processes: the arena cap holds under 16 allocating
threads, and malloc_trim hands back memory that free() kept (RSS from /proc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from assistant.malloc import arena_count, glibc, limit_arenas, release_free_memory

pytestmark = pytest.mark.skipif(glibc() is None, reason="not glibc: the tuning is a no-op here")

THREADS = 16

ARENAS = textwrap.dedent(
    """
    import json, sys, threading
    from assistant.malloc import arena_count, limit_arenas
    cap = int(sys.argv[1])
    limited = limit_arenas(cap) if cap else False
    gate = threading.Barrier({threads})
    def work():
        gate.wait()  # all threads allocate at once, as request threads do under load
        blocks = [bytearray(50_000) for _ in range(200)]
        del blocks
    threads = [threading.Thread(target=work) for _ in range({threads})]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps({{"limited": limited, "arenas": arena_count()}}))
    """
).format(threads=THREADS)

TRIM = textwrap.dedent(
    """
    import json, threading
    from assistant.malloc import release_free_memory
    def rss_mib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    kept = []
    def work():
        # 200 MiB in 50 KB blocks (below the mmap threshold: heap memory), then all but the
        # last freed: the live block at the top stops free() from shrinking the heap.
        blocks = [bytearray(50_000) for _ in range(4_000)]
        kept.append(blocks.pop())
        del blocks
    t = threading.Thread(target=work); t.start(); t.join()
    before = rss_mib()
    released = release_free_memory()
    print(json.dumps({"before": before, "after": rss_mib(), "released": released}))
    """
)


def _run(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_arena_cap_holds_under_many_allocating_threads() -> None:
    default = _run(ARENAS, "0")
    capped = _run(ARENAS, "2")
    assert capped["limited"] is True
    assert capped["arenas"] == 2  # the main arena and one shared by all 16 threads
    # glibc's default (8 per core) gives the threads arenas of their own: what the cap prevents
    assert isinstance(default["arenas"], int) and default["arenas"] > 2


def test_trim_returns_memory_that_free_kept() -> None:
    result = _run(TRIM)
    before, after = float(result["before"]), float(result["after"])  # type: ignore[arg-type]
    assert result["released"] is True
    assert before - after > 100, result  # MiB: most of the 200 MiB freed but kept


def test_in_process_calls_are_safe_and_zero_leaves_the_default() -> None:
    assert limit_arenas(0) is False  # 0 means glibc's default: nothing set
    count = arena_count()
    assert count is not None and count >= 1
    assert isinstance(release_free_memory(), bool)


SERVE = textwrap.dedent(
    """
    import json, sys, threading
    import uvicorn
    from assistant.malloc import arena_count

    def serving(*args, **kwargs):
        # what the server's threads do to malloc, in place of serving
        def work():
            blocks = [bytearray(50_000) for _ in range(200)]
            del blocks
        threads = [threading.Thread(target=work) for _ in range({threads})]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps({{"arenas": arena_count()}}))

    uvicorn.run = serving
    from assistant.cli import main
    sys.argv = ["taxassist", "serve"]
    main()
    """
).format(threads=THREADS)


@pytest.mark.parametrize(("setting", "capped"), [("2", True), ("0", False)])
def test_serve_applies_the_arena_setting_before_serving(setting: str, capped: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAXASSIST_MALLOC_ARENA_MAX": setting},
    )
    assert done.returncode == 0, done.stderr
    arenas = json.loads(done.stdout.strip().splitlines()[-1])["arenas"]
    assert (arenas == 2) if capped else (arenas > 2), arenas
