"""Untouched records verify: across rotations, re-opened databases and a published keyring."""

from __future__ import annotations

import itertools
import os
import stat
from pathlib import Path

import pytest

from assistant.db.models import CaseEvent
from assistant.errors import Conflict
from assistant.record import GENESIS, event_hash
from assistant.record.service import export_keyring, generate_key, list_keys, verify_record
from assistant.services import build_services
from tests.record.helpers import EVENTS, build_record, migrated_template


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("record-template"))


def test_untouched_records_always_verify(tmp_path: Path, template: Path) -> None:
    for n in range(3):
        record = build_record(tmp_path / f"data{n}", template, events=3 + 4 * n)
        report = verify_record(record.services, record.case_id)
        assert report.ok, report.problems
        assert report.events == 3 + 4 * n
        # Re-opened from disk by a new process-like container: still verifies.
        again = build_services(record.settings)
        assert verify_record(again, record.case_id).ok


def test_chain_links_each_event_to_the_previous(tmp_path: Path, template: Path) -> None:
    record = build_record(tmp_path / "data", template)
    with record.services.db.session() as session:
        events = session.query(CaseEvent).order_by(CaseEvent.seq).all()
        assert [e.seq for e in events] == list(range(1, EVENTS + 1))
        assert events[0].prev_hash == GENESIS
        for before, after in itertools.pairwise(events):
            assert after.prev_hash == before.hash
        assert all(e.hash == event_hash(e) for e in events)
        assert events[2].files == [{"sha256": record.files[3], "kind": "recording"}]


def test_rotation_keeps_old_events_verifiable(tmp_path: Path, template: Path) -> None:
    record = build_record(tmp_path / "data", template, events=4)
    first = list_keys(record.services)
    rotated = generate_key(record.services, rotate=True)
    from assistant.cases import CaseWorkflow
    from assistant.cases.events import record_action

    workflow = CaseWorkflow(record.services)
    with record.services.db.session() as session:
        case = workflow.get_case(record.case_id)
        officer = case.officer
    # A new action after the rotation is signed by the new key.
    with record.services.db.session() as session:
        from assistant.db.models import Case

        row = session.get(Case, record.case_id)
        assert row is not None
        record_action(
            record.services,
            session,
            row,
            officer,
            "case_updated",
            row.status,
            row.status,
            {"changes": {}},
        )
    keys = list_keys(record.services)
    assert len(keys) == 2 and keys[0]["valid_until"] is not None and keys[1]["valid_until"] is None
    assert keys[0]["key_id"] == first[0]["key_id"]
    with record.services.db.session() as session:
        signers = [e.key_id for e in session.query(CaseEvent).order_by(CaseEvent.seq)]
    assert signers[:4] == [first[0]["key_id"]] * 4 and signers[4] == rotated["key_id"]
    report = verify_record(record.services, record.case_id)
    assert report.ok, report.problems
    published = tmp_path / "keyring.json"
    published.write_text(export_keyring(record.services), encoding="utf-8")
    assert verify_record(record.services, record.case_id, keyring_file=published).ok


def test_private_key_file_is_owner_only_and_generate_refuses_a_second(
    tmp_path: Path, template: Path
) -> None:
    record = build_record(tmp_path / "data", template, events=2)
    keys_dir = record.settings.keys_dir
    (pem,) = list(keys_dir.glob("*.pem"))
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keys_dir).st_mode) == 0o700
    with pytest.raises(Conflict):
        generate_key(record.services, rotate=False)
