"""Publication through the real app: a decision issued in a signed case record, masked, reviewed,
published, read by the public (JSON, RSS, page), withdrawn; a 强制 measure's record withdrawn as
inaccurate and drafted again; the progress inquiry and the 事前 information. Planted identifiers
never reach anything the public side answers.

The app and its database are shared by the module; each test issues its own decisions (`issue`)
and reads only what it made, so any one test runs alone, in any order, on any worker."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.events import record_action
from assistant.db.backup import create_backup, restore_backup
from assistant.db.files import FileStore
from assistant.db.models import Case, Document, User
from assistant.db.types import utcnow
from assistant.publicity import service as publicity
from assistant.publicity.labelled import (
    TEMPLATES,
    address,
    bank_card,
    fixed_line,
    mobile,
    person_name,
    resident_id,
)
from assistant.publicity.public import check_code
from assistant.services import Services, build_services, seed_demo_users
from tests.api.apphelpers import assert_error, login
from tests.conftest import DEMO_USCC, make_settings

TRAILER = (
    "以上应缴款项共计6,000.00元。限你单位自本决定书送达之日起十五日内到指定的银行缴纳。\n"
    "如对本决定不服，可以自收到本决定书之日起六十日内依法向国家税务总局示例市税务局申请行政复议。"
)


@dataclass
class World:
    client: TestClient
    services: Services
    officer: dict[str, str]
    numbers: Iterator[int]  # the next 文号 number: each decision its own


@dataclass
class Issued:
    """Decisions one test issued: their ids, cases and what was planted in their facts."""

    documents: list[int]
    case_ids: list[int]
    case_numbers: list[str]
    planted: list[str]  # every planted value (identifiers, names, address details)
    numbers: list[int]


def issue(world: World, count: int, *, individual_at: int | None = None) -> Issued:
    """`count` issued penalty decisions with planted personal data, each its own case (the one
    at `individual_at` on a natural person)."""
    rng = random.Random(16)
    planted: list[str] = []
    numbers = [next(world.numbers) for _ in range(count)]
    documents = [
        _issue_decision(
            world.services,
            _planted_sentences(rng, planted),
            number=n,
            individual=k == individual_at,
        )
        for k, n in enumerate(numbers)
    ]
    with world.services.db.session() as session:
        cases = [
            session.execute(
                select(Case.id, Case.number)
                .join(Document, Document.case_id == Case.id)
                .where(Document.id == d)
            ).one()
            for d in documents
        ]
    return Issued(documents, [c[0] for c in cases], [c[1] for c in cases], planted, numbers)


def published(world: World, issued: Issued) -> list[dict[str, Any]]:
    """Each decision's record drafted and published through the API."""
    client, headers = world.client, world.officer
    out = []
    for document_id in issued.documents:
        draft = client.post("/publications", json={"document_id": document_id}, headers=headers)
        assert draft.status_code == 201, draft.text
        done = client.post(f"/publications/{draft.json()['id']}/publish", headers=headers)
        assert done.status_code == 200, done.text
        out.append(done.json())
    return out


def _planted_sentences(rng: random.Random, planted: list[str]) -> str:
    sentences = []
    for template in TEMPLATES:
        name, (full, detail) = person_name(rng), address(rng)
        values = {
            "name": name,
            "id": resident_id(rng),
            "mobile": mobile(rng),
            "fixed": fixed_line(rng),
            "card": bank_card(rng),
            "address": full,
            "bank": "中国建设银行",
            "sex": "男",
            "birth": "1980年5月6日",
        }
        sentences.append(template.format(**values))
        keys = {"{name}": name, "{address}": detail}
        keys |= {f"{{{k}}}": values[k] for k in ("id", "mobile", "fixed", "card")}
        planted.extend(v for k, v in keys.items() if k in template)
    return "".join(sentences)


def _issue_decision(services: Services, facts: str, *, number: int, individual: bool) -> int:
    """A case with a penalty decision drafted by the officer and issued by the approver, each a
    signed event covering the document, as the workflow records them."""
    with services.db.session() as session:
        officer = session.scalar(select(User).where(User.username == "officer"))
        approver = session.scalar(select(User).where(User.username == "approver"))
        assert officer is not None and approver is not None
        session.expunge_all()
    taxpayer = (
        TaxpayerInput(
            name="孙建军", id_number=resident_id(random.Random(number)), kind="individual"
        )
        if individual
        else TaxpayerInput(
            name="示例商贸有限公司",
            id_number=DEMO_USCC,
            kind="organisation",
            legal_representative="周明",
        )
    )
    case = CaseWorkflow(services).create_case(
        officer,
        NewCase(
            taxpayer=taxpayer,
            violation="tax_evasion",
            facts="该公司通过个人账户收取货款，少缴增值税12000.00元。",
            violation_date=date(2025, 4, 15),
            tax_unpaid=Decimal("12000.00"),
        ),
    )
    you = "你" if individual else "你单位"
    text = (
        f"国家税务总局示例市税务局稽查局\n税务行政处罚决定书\n示税稽罚〔2026〕{number}号\n"
        f"{taxpayer.name}：\n经我局检查，{you}存在违法事实及处罚决定如下：\n一、违法事实及证据\n"
        f"{facts}\n上述违法事实，主要有以下证据证明：\n1.银行流水。\n二、处罚决定\n"
        f"依据《中华人民共和国税收征收管理法》第六十三条第一款的规定，对{you}处以少缴税款"
        f"百分之五十的罚款，计6,000.00元。\n{TRAILER}"
    )
    with services.db.session() as session:
        case_row = session.get(Case, case.id)
        assert case_row is not None
        officer_row = session.get(User, officer.id)
        approver_row = session.get(User, approver.id)
        assert officer_row is not None and approver_row is not None
        sha, _, _ = services.files.put_bytes(text.encode("utf-8"))
        document = Document(
            case_id=case.id,
            doc_type="penalty_decision",
            number=f"示税稽罚〔2026〕{number}号",
            sha256=sha,
            filename="decision.docx",
            text=text,
            created_by=officer.id,
        )
        session.add(document)
        session.flush()
        details = {"document_id": document.id, "doc_type": "penalty_decision", "sha256": sha}
        record_action(
            services, session, case_row, officer_row, "document_drafted",
            case_row.status, case_row.status, details, covers=[document],
        )  # fmt: skip
        document.issued_at = utcnow()
        document.issued_by = approver.id
        record_action(
            services, session, case_row, approver_row, "document_issued",
            case_row.status, case_row.status, details, covers=[document],
        )  # fmt: skip
        return document.id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("publicity") / "data", inquiry_max_failures=3)
    services = build_services(settings)
    services.db.migrate()
    seed_demo_users(services)
    with services.db.session() as session:
        services.keystore().ensure(session)
    with TestClient(create_app(settings)) as client:
        yield World(client, services, login(client, "officer"), itertools.count(1))


def _public_answers(client: TestClient) -> str:
    return "\n".join(
        client.get(path).text
        for path in ("/public/publications", "/public/publications.rss", "/public")
    )


def test_draft_masks_review_publish_and_the_public_never_sees_a_planted_value(
    world: World,
) -> None:
    client, headers = world.client, world.officer
    mine = issue(world, 3, individual_at=2)
    alerts = client.get("/publications/alerts", headers=headers).json()
    own = [a for a in alerts if a["document_id"] in mine.documents]
    assert {a["document_id"] for a in own} == set(mine.documents)
    assert all(not a["overdue"] and a["working_days_left"] == 7 for a in own)

    ids = []
    for document_id in mine.documents:
        draft = client.post("/publications", json={"document_id": document_id}, headers=headers)
        assert draft.status_code == 201, draft.text
        body = draft.json()
        assert body["status"] == "draft" and body["kind"] == "处罚"
        assert {f["kind"] for f in body["findings"]} >= {"id_number", "phone", "bank_account"}
        fields = body["fields"]
        assert fields["document_number"].startswith("示税稽罚〔2026〕")
        assert "税收征收管理法》第六十三条第一款" in fields["basis"]
        assert "6,000.00元" in fields["result"] and "限你" not in fields["result"]
        assert fields["authority"] == "国家税务总局示例市税务局稽查局"
        ids.append(body["id"])
    # nothing public before the officer publishes
    feed = client.get("/public/publications").json()
    assert not {item["id"] for item in feed["items"]} & set(ids)
    assert_error(
        client.post("/publications", json={"document_id": mine.documents[0]}, headers=headers),
        409,
        "publication_exists",
    )
    # the officer's review adds a sentence with a new phone number: masked again on save
    edited = client.patch(
        f"/publications/{ids[0]}",
        json={"facts": "当事人吴国华称其手机13912345678已停用。"},
        headers=headers,
    )
    assert edited.status_code == 200, edited.text
    facts = edited.json()["fields"]["facts"]
    assert "13912345678" not in facts and "吴国华" not in facts and "139＊＊＊＊5678" in facts
    # the officer sees what was masked (the findings), the public never does
    assert {"13912345678", "吴国华"} <= {f["text"] for f in edited.json()["findings"]}
    planted = [*mine.planted, "13912345678", "吴国华"]
    assert_error(
        client.patch(f"/publications/{ids[0]}", json={"party": "x"}, headers=headers),
        422,
        "invalid_request",
    )
    for publication_id in ids:
        done = client.post(f"/publications/{publication_id}/publish", headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "published"

    feed = client.get("/public/publications").json()  # no sign-in
    items = [item for item in feed["items"] if item["id"] in ids]
    assert {item["id"] for item in items} == set(ids)
    organisation = next(i for i in items if "示例商贸有限公司" in i["fields"]["party"])
    assert DEMO_USCC in organisation["fields"]["party"]  # organisations are shown
    individual = next(i for i in items if "孙" in i["fields"]["party"])
    assert individual["fields"]["party"] == "孙某"  # the individual party is masked
    answers = _public_answers(client)
    assert "<rss" in answers and f"示税稽罚〔2026〕{mine.numbers[0]}号" in answers
    assert "孙建军" not in answers
    leaked = [value for value in planted if value in answers]
    assert leaked == [], leaked


def test_withdrawal_leaves_the_feed_at_once_and_is_signed_in_the_record(world: World) -> None:
    client, headers = world.client, world.officer
    target, other = published(world, issue(world, 2))
    case_id = target["case_id"]
    assert_error(
        client.post(
            f"/publications/{target['id']}/withdraw", json={"reason": "bored"}, headers=headers
        ),
        422,
        "invalid_withdrawal_reason",
    )
    withdrawn = client.post(
        f"/publications/{target['id']}/withdraw",
        json={
            "reason": "revoked",
            "note": "行政复议决定撤销原处罚决定",
            "revoked_on": (date.today() - timedelta(days=1)).isoformat(),
        },
        headers=headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # the very next public request no longer lists it; the withdrawal and its reason are public
    feed = client.get("/public/publications").json()
    assert target["id"] not in {item["id"] for item in feed["items"]}
    assert any(
        w["id"] == target["id"] and w["reason"] == "原决定被依法撤销" for w in feed["withdrawals"]
    )
    assert target["fields"]["facts"] not in client.get("/public/publications.rss").text
    assert_error(
        client.post(
            f"/publications/{target['id']}/withdraw", json={"reason": "revoked"}, headers=headers
        ),
        409,
        "publication_not_published",
    )
    # a decision withdrawn for good is not asked for again, nor drafted again
    alerts = client.get("/publications/alerts", headers=headers).json()
    assert target["document_id"] not in {a["document_id"] for a in alerts}
    assert_error(
        client.post("/publications", json={"document_id": target["document_id"]}, headers=headers),
        409,
        "publication_withdrawn_for_good",
    )
    # an inaccurate one is drafted again
    corrected = client.post(
        f"/publications/{other['id']}/withdraw", json={"reason": "inaccurate"}, headers=headers
    )
    assert corrected.status_code == 200, corrected.text
    alerts = client.get("/publications/alerts", headers=headers).json()
    assert other["document_id"] in {a["document_id"] for a in alerts}
    again = client.post(
        "/publications", json={"document_id": other["document_id"]}, headers=headers
    )
    assert again.status_code == 201 and again.json()["id"] != other["id"], again.text
    # sixty days on, the corrected draft is past its 7 working days: the alert says so
    later = publicity.alerts(world.services, on=date.today() + timedelta(days=60))
    late = next(a for a in later if a["document_id"] == other["document_id"])
    assert late["overdue"] and late["working_days_left"] == 0
    assert late["publication_id"] == again.json()["id"]
    assert_error(
        client.post("/publications", json={"document_id": other["document_id"]}, headers=headers),
        409,
        "publication_exists",
    )
    verify = client.get(f"/cases/{case_id}/record/verify", headers=headers).json()
    assert verify["ok"], verify
    timeline = client.get(f"/cases/{case_id}/timeline", headers=headers).json()
    actions = [e["action"] for e in timeline["events"]]
    assert actions[-3:] == ["publication_drafted", "publication_published", "publication_withdrawn"]
    event = timeline["events"][-1]
    assert event["verified"] and event["hash"] and event["key_id"]
    assert event["details"]["reason"] == "revoked" and not event["details"]["late"]
    assert "第四十八条" in event["details"]["source"]


def test_progress_inquiry_needs_the_check_code_and_is_throttled(world: World) -> None:
    client, headers = world.client, world.officer
    case_id = issue(world, 1).case_ids[0]
    code = client.get(f"/publications/inquiry-codes/{case_id}", headers=headers).json()
    assert len(code["check_code"]) == 12
    answer = client.post(
        "/public/inquiries",
        json={"case_number": code["case_number"], "check_code": code["check_code"].lower()},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["pending"] and body["stage_name"] == "调查取证"
    assert body["steps"][0]["step"] == "立案"  # named from the one event registry
    assert "示例承办人" not in answer.text and "officer" not in answer.text
    wrong = {"case_number": code["case_number"], "check_code": "AAAAAAAAAAAA"}
    assert_error(client.post("/public/inquiries", json=wrong), 404, "inquiry_not_found")
    unknown = {"case_number": "no-such-case", "check_code": code["check_code"]}
    assert_error(client.post("/public/inquiries", json=unknown), 404, "inquiry_not_found")
    assert_error(client.post("/public/inquiries", json=wrong), 404, "inquiry_not_found")
    locked = client.post("/public/inquiries", json=wrong)
    assert_error(locked, 429, "too_many_inquiries")
    assert int(locked.headers["retry-after"]) > 0
    # the right code is refused too while the address is locked
    right = {"case_number": code["case_number"], "check_code": code["check_code"]}
    assert_error(client.post("/public/inquiries", json=right), 429, "too_many_inquiries")


def test_pre_enforcement_information_lists_officers_with_valid_credentials(world: World) -> None:
    info = world.client.get("/public/pre-enforcement").json()
    names = {o["name"] for o in info["officers"]}
    assert {"示例承办人", "示例负责人"} <= names and "示例管理员" not in names
    assert {p["kind"] for p in info["powers"]} >= {"行政处罚", "行政强制", "行政许可"}
    assert any(r["name"] == "行政复议" for r in info["remedies"])
    assert info["publication"]["working_days"] == 7
    assert_error(world.client.get("/publications"), 401, "missing_token")


def test_openapi_declares_every_status_of_the_new_routes(world: World) -> None:
    paths = world.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    inquiry = paths["/public/inquiries"]["post"]["responses"]
    assert {"200", "400", "404", "422", "429"} <= set(inquiry) and "401" not in inquiry
    assert (
        "application/rss+xml"
        in paths["/public/publications.rss"]["get"]["responses"]["200"]["content"]
    )
    withdraw = paths["/publications/{publication_id}/withdraw"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422", "503"} <= set(withdraw)
    assert {"201", "409", "422"} <= set(paths["/publications"]["post"]["responses"])


def test_check_codes_survive_backup_and_restore(world: World, tmp_path: Path) -> None:
    """The inquiry secret travels with the signing keys, so a restored installation answers
    the codes already given to parties."""
    settings = world.services.settings
    [number] = issue(world, 1).case_numbers
    code = check_code(settings, number)
    backup = tmp_path / "backup"
    create_backup(
        settings.resolved_database_url, settings.data_dir, backup, files=world.services.files
    )
    restored = make_settings(tmp_path / "restored")
    files = FileStore(restored.blobs_dir)
    restore_backup(backup, restored.data_dir, restored.resolved_database_url, files=files)
    assert check_code(restored, number) == code
    assert (restored.keys_dir / "inquiry.secret").stat().st_mode & 0o077 == 0


def test_a_revoked_decisions_draft_is_withdrawn_and_never_public(world: World) -> None:
    """A 复议 revokes a decision whose record is still a draft: the draft is withdrawn
    with it (it can no longer be published), and the feed, which never showed it, lists no
    withdrawal of it."""
    client, headers = world.client, world.officer
    [document_id] = issue(world, 1).documents
    made = client.post("/publications", json={"document_id": document_id}, headers=headers)
    assert made.status_code == 201, made.text
    draft = made.json()
    base = f"/cases/{draft['case_id']}/remedies/reconsideration"
    applied = {"body": "国家税务总局示例市税务局", "document_id": draft["document_id"]}
    assert client.post(base, json=applied, headers=headers).status_code == 201
    decided = client.post(f"{base}/result", json={"result": "撤销"}, headers=headers)
    assert decided.status_code == 200, decided.text
    assert [w["id"] for w in decided.json()["withdrawn"]] == [draft["id"]]
    assert_error(
        client.post(f"/publications/{draft['id']}/publish", headers=headers),
        409,
        "publication_not_draft",
    )
    feed = client.get("/public/publications").json()
    assert draft["id"] not in {w["id"] for w in feed["withdrawals"]}
    alerts = client.get("/publications/alerts", headers=headers).json()
    assert draft["document_id"] not in {a["document_id"] for a in alerts}
    verify = client.get(f"/cases/{draft['case_id']}/record/verify", headers=headers).json()
    assert verify["ok"], verify


def test_a_measures_record_withdrawn_as_inaccurate_is_drafted_again(world: World) -> None:
    """强制: the record drafted with the measure, published, withdrawn as inaccurate — asked for
    again and drafted again by `POST /publications {measure_event_id}` (the withdrawn one stays
    on record and in the public withdrawals); refused while a record is active, for a measure
    that is not one, and after a 复议 revoked the measure."""
    client, headers = world.client, world.officer
    [case_id] = issue(world, 1).case_ids
    taken = client.post(
        f"/cases/{case_id}/enforcement-measures",
        json={
            "measure": "preservation",
            "method": "freeze_deposit",
            "document_number": "示税保〔2026〕3号",
        },
        headers=headers,
    )
    assert taken.status_code == 201, taken.text
    event_id, first = taken.json()["event_id"], taken.json()["publication"]["id"]
    assert_error(
        client.post("/publications", json={"measure_event_id": event_id}, headers=headers),
        409,
        "publication_exists",
    )
    assert client.post(f"/publications/{first}/publish", headers=headers).status_code == 200
    out = client.post(
        f"/publications/{first}/withdraw", json={"reason": "inaccurate"}, headers=headers
    )
    assert out.status_code == 200, out.text
    assert event_id in {
        a["event_id"] for a in client.get("/publications/alerts", headers=headers).json()
    }

    again = client.post("/publications", json={"measure_event_id": event_id}, headers=headers)
    assert again.status_code == 201, again.text
    body = again.json()
    assert body["id"] != first and body["status"] == "draft" and body["event_id"] == event_id
    assert (body["kind"], body["record_type"]) == ("强制", "enforcement_measure")
    assert body["fields"]["document_number"] == "税收保全措施决定书（示税保〔2026〕3号）"
    old = client.get(f"/publications/{first}", headers=headers).json()
    assert (old["status"], old["withdrawal_reason"]) == ("withdrawn", "inaccurate")
    assert first in {w["id"] for w in client.get("/public/publications").json()["withdrawals"]}
    drafted = [
        e for e in client.get(f"/cases/{case_id}/timeline", headers=headers).json()["events"]
        if e["action"] == "publication_drafted"
    ]  # fmt: skip
    assert [e["details"].get("automatic", False) for e in drafted] == [True, False]
    assert_error(
        client.post("/publications", json={"measure_event_id": event_id}, headers=headers),
        409,
        "publication_exists",
    )
    both = {"measure_event_id": event_id, "document_id": 1}
    assert_error(
        client.post("/publications", json=both, headers=headers), 422, "invalid_publication_source"
    )
    assert_error(
        client.post("/publications", json={}, headers=headers), 422, "invalid_publication_source"
    )
    not_a_measure = drafted[0]["id"]  # an event of the case, not a measure
    assert_error(
        client.post("/publications", json={"measure_event_id": not_a_measure}, headers=headers),
        404,
        "measure_not_found",
    )
    # a 复议 revokes the measure: its new draft is withdrawn too, and no record is made again
    base = f"/cases/{case_id}/remedies/reconsideration"
    applied = {"body": "国家税务总局示例市税务局", "measure_event_id": event_id}
    assert client.post(base, json=applied, headers=headers).status_code == 201
    revoked = client.post(f"{base}/result", json={"result": "撤销"}, headers=headers)
    assert [w["id"] for w in revoked.json()["withdrawn"]] == [body["id"]], revoked.text
    assert_error(
        client.post("/publications", json={"measure_event_id": event_id}, headers=headers),
        409,
        "publication_withdrawn_for_good",
    )
    assert event_id not in {
        a["event_id"] for a in client.get("/publications/alerts", headers=headers).json()
    }
    verify = client.get(f"/cases/{case_id}/record/verify", headers=headers).json()
    assert verify["ok"], verify
