"""The workbench's server time: the case page with 500 transcript segments and 20 documents
(target p95 ≤ 200 ms) and a document's PDF (target ≤ 0.5 s), through the real app in-process
(TestClient: no network, so the time is the server's), on a fresh SQLite data dir. Wall time
and the process's CPU time per request are both reported: on a shared machine the wall time
mostly measures the other processes' load, the CPU time what one request costs.

The case is real: created, the discretion step run and 20 documents drafted through the
workflow (each rendered and fact-checked); the 500 segments are stored as a transcription
stores them (a recording of 500 segments with words, speakers, low-confidence ones and
【无法识别】 spans), without running the ASR model, which is not what is measured.

The signed timeline, loaded by the page after it is shown, is timed as its own request.

Usage: python benchmarks/workbench_bench.py [--requests 60] [--pdf 15] [--timeline 20]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.db import Recording, TranscriptSegment, User  # noqa: E402
from assistant.services import build_services, setup  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.web.webhelpers import sign_in, web_case_form  # noqa: E402

SEGMENTS = 500
DOCUMENTS = 20


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def prepare(data_dir: Path) -> tuple[Settings, int, int]:
    """Settings, the case id and a document id: the case, its 500 segments, 20 documents."""
    settings = make_settings(data_dir)
    services = build_services(settings)
    setup(services, with_index=False)
    workflow = CaseWorkflow(services)
    with services.db.session() as session:
        officer = session.query(User).filter(User.username == "officer").one()
    form = web_case_form()
    case = workflow.create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput(
                name=form["taxpayer.name"],
                id_number=form["taxpayer.id_number"],
                kind="organisation",
                address=form["taxpayer.address"],
                legal_representative=form["taxpayer.legal_representative"],
            ),
            violation="late_filing",
            facts=form["facts"],
            violation_date=datetime.date(2025, 4, 15),
            tax_unpaid=Decimal("12000.00"),
            days_overdue=45,
            corrected_in_time=True,
            evidence=("纳税申报记录", "责令限期改正通知书及送达回证"),
        ),
    )
    sha256, _, _ = services.files.put_bytes(b"RIFF-benchmark-placeholder-audio")
    with services.db.session() as session:
        recording = Recording(
            case_id=case.id,
            sha256=sha256,
            original_filename="询问录音.wav",
            content_type="audio/wav",
            size_bytes=32,
            duration_seconds=SEGMENTS * 4.0,
            language="zh",
            uploaded_by=officer.id,
            status="transcribed",
        )
        session.add(recording)
        session.flush()
        for i in range(SEGMENTS):
            text = (
                f"问：第{i + 1}个问题，你公司2025年3月的增值税申报为什么逾期？"
                if i % 2 == 0
                else "答：因财务人员变动【无法识别】未能按期申报，已补缴税款12,000元。"
            )
            words = [
                {"start": i * 4.0, "end": i * 4.0 + 1, "word": "增值税", "probability": 0.9},
                {"start": i * 4.0 + 1, "end": i * 4.0 + 2, "word": "逾期", "probability": 0.4},
            ]
            session.add(
                TranscriptSegment(
                    recording_id=recording.id,
                    index=i,
                    start=i * 4.0,
                    end=i * 4.0 + 3.9,
                    text=text,
                    avg_logprob=-0.3 if i % 7 else -1.2,
                    no_speech_prob=0.01,
                    speaker="问" if i % 2 == 0 else "答",
                    words=words,
                )
            )
    workflow.suggest(officer, case.id)
    document_id = 0
    for n in range(DOCUMENTS):
        doc_type = "penalty_notice" if n % 2 == 0 else "penalty_decision"
        document_id = workflow.draft(officer, case.id, doc_type).id
    services.db.engine.dispose()
    return settings, case.id, document_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--pdf", type=int, default=15)
    parser.add_argument("--timeline", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        settings, case_id, document_id = prepare(Path(tmp) / "data")
        print(
            f"prepared a case with {SEGMENTS} segments and {DOCUMENTS} documents "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with TestClient(create_app(settings)) as client:
            sign_in(client, "officer")
            page = f"/workbench/cases/{case_id}"
            for _ in range(3):  # warm: templates compiled, connections open
                assert client.get(page).status_code == 200
            times, cpu = [], []
            size = 0
            for _ in range(args.requests):
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(page)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                assert response.status_code == 200
                size = len(response.content)
            assert response.text.count('class="segment') == SEGMENTS
            print(
                f"case page ({size / 1024:.0f} kB, {args.requests} requests): wall "
                f"p50 {statistics.median(times) * 1000:.0f} ms, "
                f"p95 {percentile(times, 95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
                f"CPU p50 {statistics.median(cpu) * 1000:.0f} ms, "
                f"p95 {percentile(cpu, 95) * 1000:.0f} ms"
            )
            # the signed timeline, loaded by the page after it is shown (every signature and
            # the content hashes of the 500 segments and 20 documents checked)
            times, cpu = [], []
            for _ in range(args.timeline):
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(f"{page}/timeline", headers={"HX-Request": "true"})
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                assert response.status_code == 200 and "个事件" in response.text
            print(
                f"signed timeline fragment ({args.timeline} requests): wall "
                f"p50 {statistics.median(times) * 1000:.0f} ms, "
                f"p95 {percentile(times, 95) * 1000:.0f} ms; "
                f"CPU p50 {statistics.median(cpu) * 1000:.0f} ms"
            )
            pdf = f"/workbench/documents/{document_id}/pdf"
            start = time.perf_counter()
            first = client.get(pdf)
            cold = time.perf_counter() - start
            assert first.status_code == 200 and first.content.startswith(b"%PDF-")
            times, cpu = [], []
            for _ in range(args.pdf):
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(pdf)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                assert response.status_code == 200
            print(
                f"document PDF ({len(response.content) / 1024:.0f} kB): first call in the "
                f"process {cold:.2f} s (fonts parsed), then {args.pdf} calls: wall "
                f"p50 {statistics.median(times):.3f} s, p95 {percentile(times, 95):.3f} s, "
                f"max {max(times):.3f} s; CPU p50 {statistics.median(cpu):.3f} s, "
                f"p95 {percentile(cpu, 95):.3f} s"
            )
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
