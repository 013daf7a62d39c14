"""How long installing the optional [llm] extra takes (decides whether CI installs it).

Usage: python benchmarks/llm_extra_install.py [VENV_DIR]
Creates a fresh virtual environment and times `pip install torch==2.13.0 transformers`
(the pins of pyproject's `llm` extra). Needs the package index; nothing is kept in the repo.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    pip = target / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "--upgrade", "pip"], check=True)
    start = time.perf_counter()
    subprocess.run([str(pip), "install", "-q", "torch==2.13.0", "transformers"], check=True)
    print(f"pip install torch==2.13.0 transformers: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
