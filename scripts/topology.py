"""Start the deployment topology from local processes on loopback, until Ctrl-C or SIGTERM.

2 API replicas (`taxassist serve`) and 2 Celery workers (`taxassist worker`) on a throwaway
PostgreSQL and Redis, one shared data dir (file store, index, keys); prints the replicas' URLs
as JSON once each answers `GET /ready`. See README, *Scaling out* → *Deployment*.

    .venv/bin/python scripts/topology.py [ROOT] [--replicas N] [--workers N] [--index-from DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.topology import main

if __name__ == "__main__":
    sys.exit(main())
