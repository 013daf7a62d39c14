"""Signed record throughput: events appended per second with Ed25519 signing, and the time to
verify one case of 10,000 events (chain, signatures, key validity, head), on SQLite.

    python benchmarks/record_bench.py --events 10000
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.auth import create_user
from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.credentials import add_credential
from assistant.config import Settings
from assistant.db.models import Case
from assistant.record import append_event, verify_case
from assistant.services import build_services

USCC = "91150100MA0N7Y2K37"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1, help="events per transaction")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), seed_demo_users=False)  # type: ignore[call-arg]
        services = build_services(settings)
        services.db.migrate()
        with services.db.session() as session:
            officer = create_user(
                session, username="bench", password="vanilla-kite-58-river", role="officer"
            )
            session.flush()
            add_credential(
                session,
                "bench",
                number="B-1",
                issued_on=date(2024, 1, 1),
                valid_until=date(2099, 1, 1),
            )
            session.expunge(officer)
        case = CaseWorkflow(services).create_case(
            officer,
            NewCase(
                taxpayer=TaxpayerInput(
                    name="示例商贸有限公司", id_number=USCC, kind="organisation"
                ),
                violation="late_filing",
                facts="增值税纳税申报逾期45日。",
                violation_date=date(2025, 4, 15),
                tax_unpaid=Decimal("12000.00"),
            ),
        )
        keystore = services.keystore()
        remaining = args.events - 1
        start = time.perf_counter()
        while remaining > 0:
            with services.db.session() as session:
                signer = keystore.signer(session)
                row = session.get(Case, case.id)
                assert row is not None
                for _ in range(min(args.batch, remaining)):
                    append_event(
                        session,
                        signer,
                        row,
                        actor_id=officer.id,
                        actor_role="officer",
                        action="note_added",
                        before=row.status,
                        after=row.status,
                        details={"note": "询问笔录已核对", "amount": "12000.00"},
                    )
                    remaining -= 1
        append_s = time.perf_counter() - start
        start = time.perf_counter()
        with services.db.session() as session:
            report = verify_case(session, services.files, case.id)
        verify_s = time.perf_counter() - start
        assert report.ok and report.events == args.events, report.problems[:3]
        print(f"machine: {platform.machine()}, python {sys.version.split()[0]}")
        print(f"events: {args.events}, events per transaction: {args.batch}")
        print(
            f"append with signing: {append_s:.2f} s = {(args.events - 1) / append_s:.0f} events/s"
        )
        print(f"verify {report.events} events: {verify_s:.2f} s")


if __name__ == "__main__":
    main()
