"""The full-process record: append signed, hash-chained events and verify a case's chain.

Each event's hash is SHA-256 over its canonical JSON, which includes the case, its position
(`seq`), the previous event's hash, who/role/when/what, the states before and after, the
details, the SHA-256 of every linked file, the hashes of the content it records
(`assistant.record.content`) and the signing key; the hash is signed with Ed25519. Editing,
deleting, reordering or re-signing an event, changing a linked file or changing recorded
content in the database therefore breaks a check that names the event (and the file or row).

Events signed before content commitments existed (`content` NULL) still verify; the report
lists them, and any row only they cover, as notes ("content not covered"), not as problems:
the record cannot prove what they did not commit to, and failing them would make every old
case fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant.db.files import BlobStore
from assistant.db.models import Case, CaseEvent, Document, Evidence, Publication, Recording
from assistant.db.types import utcnow
from assistant.errors import NotFound
from assistant.record.canonical import canonical_sha256
from assistant.record.content import current_content, describe
from assistant.record.keys import PublicKeyInfo, Signer, key_id_for, keyring_from_db, public_raw

GENESIS = "0" * 64
FORMAT_VERSION = 1


def event_payload(event: CaseEvent) -> dict[str, Any]:
    """What is hashed: every field of the event except its hash and signature (`content` only
    when present, so events signed before it existed keep their hash)."""
    payload = {
        "v": FORMAT_VERSION,
        "case_id": event.case_id,
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "state_before": event.state_before,
        "state_after": event.state_after,
        "details": event.details,
        "files": event.files or [],
        "created_at": _iso(event.created_at),
        "key_id": event.key_id,
    }
    if event.content is not None:
        payload["content"] = event.content
    return payload


def event_hash(event: CaseEvent) -> str:
    return canonical_sha256(event_payload(event))


FILE_KINDS = {
    "recording_uploaded": "recording",
    "recording_transcribed": "recording",
    "document_drafted": "document",
    "evidence_uploaded": "evidence",
    "evidence_read": "evidence",
}


def files_in(action: str, details: dict[str, Any]) -> list[dict[str, Any]]:
    """Files an action links: the `sha256` in its details (recordings, drafts, evidence)."""
    sha = details.get("sha256")
    if isinstance(sha, str) and len(sha) == 64:
        return [{"sha256": sha, "kind": FILE_KINDS.get(action, "attachment")}]
    return []


def append_event(
    session: Session,
    signer: Signer,
    case: Case,
    *,
    actor_id: int,
    actor_role: str,
    action: str,
    before: str | None,
    after: str | None,
    details: dict[str, Any],
    files: list[dict[str, Any]] | None = None,
    content: dict[str, str] | None = None,
) -> CaseEvent:
    """Add the next event of the case's chain, hashed and signed, and move the case head.

    The position and the previous hash are taken from the case row under its write lock
    (`claim_position`), never from the caller's possibly stale copy, so concurrent appends
    to one case queue up instead of colliding on `seq`.

    `content`: reference -> SHA-256 of what the event records (`content.commitments`).
    """
    seq, prev_hash = claim_position(session, case.id)
    event = CaseEvent(
        case_id=case.id,
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        state_before=before,
        state_after=after,
        # A JSON round trip now, so what is hashed is exactly what the database returns later.
        details=json.loads(json.dumps(details, ensure_ascii=False)),
        files=files if files is not None else files_in(action, details),
        created_at=utcnow(),
        seq=seq,
        prev_hash=prev_hash,
        key_id=signer.key_id,
        content=dict(content) if content is not None else None,
    )
    event.hash = event_hash(event)
    event.signature = signer.sign(bytes.fromhex(event.hash)).hex()
    session.add(event)
    case.record_length = seq
    case.record_head = event.hash
    return event


def claim_position(session: Session, case_id: int) -> tuple[int, str]:
    """Take the next position of a case's chain: (seq, hash of the event before it).

    One UPDATE … RETURNING on the case row: PostgreSQL locks the row and re-reads it after a
    concurrent writer commits; SQLite takes the database write lock (waiting up to its busy
    timeout) before reading. Either way the transaction holds the head until it commits, and
    its rollback gives the position back.
    """
    row = session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(record_length=func.coalesce(Case.record_length, 0) + 1)
        .returning(Case.record_length, Case.record_head)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id})
    return int(row[0]), row[1] or GENESIS


@dataclass(frozen=True)
class Problem:
    """One failed check: what kind, which event (id and position) or file, in words."""

    kind: str
    message: str
    event_id: int | None = None
    seq: int | None = None
    sha256: str | None = None
    ref: str | None = None  # the content reference (`assistant.record.content`)


@dataclass
class RecordReport:
    case_id: int
    events: int
    files: int
    problems: list[Problem] = field(default_factory=list)
    # What the record cannot vouch for without being wrong: content of pre-upgrade events.
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def content_covered(self) -> bool:
        return not any(n.kind == "content_not_covered" for n in self.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "ok": self.ok,
            "events": self.events,
            "files": self.files,
            "content_covered": self.content_covered,
            "problems": [asdict(p) for p in self.problems],
            "notes": [asdict(n) for n in self.notes],
        }


def verify_case(
    session: Session,
    files: BlobStore,
    case_id: int,
    *,
    keyring: list[PublicKeyInfo] | None = None,
    check_files: bool = True,
) -> RecordReport:
    """Check the chain, signatures, key validity, the case head and every linked file."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id})
    events = list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )
    keys, problems = _trusted_keys(keyring if keyring is not None else keyring_from_db(session))
    report = RecordReport(case_id=case_id, events=len(events), files=0, problems=problems)
    add = report.problems.append
    expected_seq = 1
    prev = GENESIS
    seen_files: dict[str, int] = {}
    for event in events:
        where = f"第{event.seq}号事件（id {event.id}，{event.action}）"
        if event.hash is None or event.signature is None or event.seq is None:
            add(Problem("unsigned_event", f"{where}未签名、不在哈希链中。", event.id, event.seq))
            continue
        if event.seq > expected_seq:
            missing = f"{expected_seq}" + (
                f"–{event.seq - 1}" if event.seq - 1 > expected_seq else ""
            )
            add(
                Problem(
                    "event_missing",
                    f"第{missing}号事件缺失（在{where}之前被删除）。",
                    event.id,
                    event.seq,
                )
            )
        elif event.seq < expected_seq:
            add(
                Problem(
                    "event_out_of_order",
                    f"{where}的位置不对：应为第{expected_seq}号，事件顺序被改动。",
                    event.id,
                    event.seq,
                )
            )
        if event_hash(event) != event.hash:
            add(Problem("event_altered", f"{where}的内容被修改（哈希不符）。", event.id, event.seq))
        if event.prev_hash != prev:
            add(
                Problem(
                    "chain_broken",
                    f"{where}记录的前一事件哈希与实际前一事件不符（事件被删除、插入或调换）。",
                    event.id,
                    event.seq,
                )
            )
        key = keys.get(event.key_id or "")
        if key is None:
            add(
                Problem(
                    "unknown_key",
                    f"{where}由未登记的密钥 {event.key_id} 签名。",
                    event.id,
                    event.seq,
                )
            )
        elif not key.verify(bytes.fromhex(event.signature), bytes.fromhex(event.hash)):
            add(Problem("bad_signature", f"{where}的签名无效。", event.id, event.seq))
        elif not key.covers(event.created_at):
            add(
                Problem(
                    "key_not_valid",
                    f"{where}的签名时间不在密钥 {key.key_id} 的有效期内。",
                    event.id,
                    event.seq,
                )
            )
        for linked in event.files or []:
            sha = str(linked.get("sha256"))
            seen_files.setdefault(sha, event.seq)
            if not check_files:
                continue
            if not files.exists(sha):
                add(
                    Problem(
                        "file_missing",
                        f"{where}引用的文件 {sha[:16]}… 不存在。",
                        event.id,
                        event.seq,
                        sha,
                    )
                )
            elif not files.verify(sha):
                add(
                    Problem(
                        "file_altered",
                        f"{where}引用的文件 {sha[:16]}… 内容被修改（SHA-256 不符）。",
                        event.id,
                        event.seq,
                        sha,
                    )
                )
        prev = event.hash
        expected_seq = max(expected_seq, event.seq + 1)
    report.files = len(seen_files)
    last_seq = expected_seq - 1
    if case.record_length != last_seq or (case.record_head or GENESIS) != prev:
        add(
            Problem(
                "record_truncated",
                f"案件记录应有{case.record_length}个事件、末事件哈希 "
                f"{str(case.record_head)[:16]}…，"
                f"实际为{last_seq}个、{prev[:16]}…（末尾事件被删除或链头被改动）。",
            )
        )
    if events and events[-1].state_after is not None and case.status != events[-1].state_after:
        add(
            Problem(
                "status_not_in_record",
                f"案件状态“{case.status}”与签名记录的最后状态“{events[-1].state_after}”不符"
                "（状态被直接改动）。",
            )
        )
    _check_case_files(session, case_id, seen_files, add)
    _check_content(session, case, events, add, report.notes.append)
    _check_publications(session, case_id, events, add)
    return report


def _check_publications(
    session: Session, case_id: int, events: list[CaseEvent], add: Callable[[Problem], None]
) -> None:
    """What the public saw is what the record signed: a published (or since withdrawn)
    publication's fields hash to the `fields_sha256` of its `publication_published` event, and a
    withdrawn one has its `publication_withdrawn` event."""
    signed: dict[tuple[str, int], CaseEvent] = {}
    for event in events:
        if event.action.startswith("publication_"):
            pid = (event.details or {}).get("publication_id")
            if isinstance(pid, int):
                signed[(event.action, pid)] = event
    rows = session.scalars(
        select(Publication)
        .where(Publication.case_id == case_id, Publication.status != "draft")
        .order_by(Publication.id)
    )
    for row in rows:
        published = signed.get(("publication_published", row.id))
        if published is None and row.published_at is None:
            pass  # a draft withdrawn before publishing (its decision revoked): nothing was public
        elif published is None:
            add(Problem("publication_not_in_record", f"公示记录 {row.id} 的公开未记入签名记录。"))
        elif canonical_sha256(row.fields) != (published.details or {}).get("fields_sha256"):
            add(
                Problem(
                    "publication_altered",
                    f"公示记录 {row.id} 的内容与公开时签名的内容不符（公开后被改动）。",
                    published.id,
                    published.seq,
                )
            )
        if row.status == "withdrawn" and ("publication_withdrawn", row.id) not in signed:
            add(Problem("publication_not_in_record", f"公示记录 {row.id} 的撤回未记入签名记录。"))


def _trusted_keys(keyring: list[PublicKeyInfo]) -> tuple[dict[str, PublicKeyInfo], list[Problem]]:
    """Keys whose id matches their public key; a swapped public key is a problem, not trusted."""
    trusted: dict[str, PublicKeyInfo] = {}
    problems = []
    for key in keyring:
        if key_id_for(public_raw(key.public_key)) != key.key_id:
            problems.append(
                Problem("key_replaced", f"登记的密钥 {key.key_id} 的公钥被替换（指纹不符）。")
            )
            continue
        trusted[key.key_id] = key
    return trusted, problems


def _check_case_files(session: Session, case_id: int, seen: dict[str, int], add: Any) -> None:
    """Every recording, document and evidence file of the case must be one the signed record
    links."""
    rows: list[tuple[str, int, str]] = [
        ("录音", r.id, r.sha256)
        for r in session.scalars(
            select(Recording).where(Recording.case_id == case_id).order_by(Recording.id)
        )
    ]
    rows += [
        ("文书", d.id, d.sha256)
        for d in session.scalars(
            select(Document).where(Document.case_id == case_id).order_by(Document.id)
        )
    ]
    rows += [
        ("证据", e.id, e.sha256)
        for e in session.scalars(
            select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
        )
    ]
    for label, row_id, sha in rows:
        if sha not in seen:
            add(
                Problem(
                    "file_not_in_record",
                    f"{label} {row_id} 指向的文件 {sha[:16]}… 不在签名记录中（文件被调包）。",
                    sha256=sha,
                )
            )


def _check_content(
    session: Session,
    case: Case,
    events: list[CaseEvent],
    add: Callable[[Problem], None],
    note: Callable[[Problem], None],
) -> None:
    """Each content row must hash to what the latest event recording it committed to; a row
    no event commits to is a write outside the workflow (a note only on pre-upgrade cases)."""
    latest: dict[str, tuple[str, CaseEvent]] = {}
    uncovered: list[int] = []
    for event in events:
        if event.content is None:
            uncovered.append(event.seq or 0)
            continue
        for ref, sha in event.content.items():
            latest[ref] = (str(sha), event)
    current, pending = current_content(session, case)
    for ref, (sha, event) in latest.items():
        where = f"第{event.seq}号事件（id {event.id}，{event.action}）"
        now = current.get(ref)
        if now is None:
            add(
                Problem(
                    "content_missing",
                    f"{where}记录的{describe(ref)}已不存在（被删除）。",
                    event.id,
                    event.seq,
                    ref=ref,
                )
            )
        elif now != sha:
            add(
                Problem(
                    "content_altered",
                    f"{describe(ref)}与{where}签名记录的内容不符（数据库中的内容被修改）。",
                    event.id,
                    event.seq,
                    ref=ref,
                )
            )
    unrecorded = sorted(
        ref
        for ref in current
        if ref not in latest and ref not in pending and not ref.startswith("case.")
    )
    if uncovered:
        seqs = f"{uncovered[0]}" + (f"–{uncovered[-1]}" if len(uncovered) > 1 else "")
        note(
            Problem(
                "content_not_covered",
                f"第{seqs}号事件签名于内容哈希启用之前，其记录的内容（案件信息、结果、转写、文书"
                f"文字）不在签名范围内，无法据此验证；未被后续事件覆盖的有{len(unrecorded)}项。",
            )
        )
        return
    for ref in unrecorded:
        add(
            Problem(
                "content_not_in_record",
                f"{describe(ref)}不在签名记录中（绕过办案流程写入）。",
                ref=ref,
            )
        )


def _iso(value: datetime) -> str:
    return value.isoformat()
