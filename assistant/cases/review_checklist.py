"""The legal review (法制审核) as a checklist: the ten points, automatic where data allows.

Each point is `pass`, `fail` or `manual` (the reviewer must record a finding). A review can
only conclude 同意 when every point passes (automatic points by the data, manual points by
the reviewer); 存在问题 needs a written opinion and sends the case back (see lifecycle).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.cases.access import latest_result
from assistant.cases.credentials import valid_credential
from assistant.dates import today_in_china
from assistant.db.files import BlobStore
from assistant.db.models import Case, Document, Recording
from assistant.documents.registry import NOTICES
from assistant.errors import NotFound, TaxAssistError
from assistant.record.chain import verify_case

# The points the plan names for 法制审核, in its order.
POINTS: dict[str, str] = {
    "lawful_subject": "执法主体合法",
    "credentials": "执法人员具备执法资格",
    "lawful_procedure": "执法程序合法",
    "facts_clear": "案件事实清楚",
    "evidence": "证据合法充分",
    "legal_basis": "适用法律、法规、规章和规范性文件正确",
    "discretion": "正确执行裁量基准",
    "competence": "未超越本机关法定权限",
    "documents": "执法文书完备、规范",
    "criminal_referral": "违法行为是否涉嫌犯罪、需要移送司法机关",
}


@dataclass(frozen=True)
class PointResult:
    code: str
    name: str
    status: str  # pass | fail | manual
    basis: str  # what the automatic check looked at, or what the reviewer wrote
    automatic: bool


def evaluate(
    session: Session, files: BlobStore, statutes: Any, case: Case, authority: str
) -> list[PointResult]:
    """The automatic findings for every point; `manual` where the data cannot decide."""
    suggestion = latest_result(session, case.id, "discretion")
    payload = suggestion.payload if suggestion else {}
    out: list[PointResult] = []

    def add(code: str, status: str, basis: str, automatic: bool = True) -> None:
        out.append(PointResult(code, POINTS[code], status, basis, automatic))

    add("lawful_subject", "pass" if authority.strip() else "fail", f"执法主体：{authority}")
    credential = valid_credential(session, case.officer_id, today_in_china())
    add(
        "credentials",
        "pass" if credential else "fail",
        f"承办人执法证件 {credential.number} 有效" if credential else "承办人没有有效的执法证件",
    )
    record = verify_case(session, files, case.id)
    add(
        "lawful_procedure",
        "pass" if record.ok else "fail",
        f"签名执法记录完整（{record.events}个事件）"
        if record.ok
        else "执法记录校验未通过：" + "；".join(p.message for p in record.problems[:3]),
    )
    add("facts_clear", "manual", "需审核人员判断", automatic=False)
    recordings = session.scalar(select(Recording.id).where(Recording.case_id == case.id).limit(1))
    if not case.evidence and recordings is None:
        add("evidence", "fail", "案件没有登记任何证据或询问录音")
    else:
        add(
            "evidence",
            "manual",
            f"已登记证据{len(case.evidence)}项；合法性、充分性需审核人员判断",
            False,
        )
    citations = [c for c in payload.get("legal_ground", []) if isinstance(c, str)]
    missing = []
    for citation in citations:
        try:
            statutes.get(citation, on=case.violation_date)
        except (NotFound, TaxAssistError, KeyError, ValueError):
            missing.append(citation)
    if not citations:
        add("legal_basis", "fail", "裁量建议没有法律依据")
    else:
        add(
            "legal_basis",
            "fail" if missing else "pass",
            f"违法行为发生日（{case.violation_date}）有效的条文："
            + ("、".join(citations) if not missing else "无法确认 " + "、".join(missing)),
        )
    if not payload:
        add("discretion", "fail", "尚无裁量建议")
    else:
        amount = Decimal(str(payload.get("suggested_amount", "0")))
        bounds = payload.get("statutory_range") or {}
        low, high = Decimal(str(bounds.get("min", "0"))), Decimal(str(bounds.get("max", "0")))
        ok = payload.get("decision") == "no_penalty" or low <= amount <= high
        add(
            "discretion",
            "pass" if ok else "fail",
            f"建议金额 {amount} 元，法定幅度 {low}–{high} 元，裁量档次 {payload.get('tier')}",
        )
    add("competence", "manual", "需审核人员判断（级别、地域、事项管辖）", automatic=False)
    needs_documents = payload.get("decision") == "penalty" and not payload.get("criminal_referral")
    doc_types = set(session.scalars(select(Document.doc_type).where(Document.case_id == case.id)))
    if needs_documents:
        lacking = {*NOTICES, *NOTICES.values()} - doc_types
        add(
            "documents",
            "fail" if lacking else "pass",
            "缺少文书：" + "、".join(sorted(lacking)) if lacking else "告知书、决定书草稿齐全",
        )
    else:
        add("documents", "manual", "不予处罚或移送案件：文书由审核人员确认", automatic=False)
    referral = bool(payload.get("criminal_referral"))
    add(
        "criminal_referral",
        "pass",
        "涉嫌犯罪，审核结论应为移送司法机关" if referral else "未达到涉嫌犯罪标准",
    )
    return out


def conclude(
    automatic: list[PointResult], findings: dict[str, dict[str, Any]]
) -> tuple[bool, list[dict[str, Any]]]:
    """Merge the reviewer's findings into the automatic ones; True when every point passes.

    A reviewer may record a problem on any point, but cannot overrule a failed automatic check.
    """
    merged = []
    for point in automatic:
        finding = findings.get(point.code) or {}
        status = point.status
        note = str(finding.get("opinion", "")).strip()
        if "ok" in finding:
            if not finding["ok"]:
                status = "fail"
            elif status == "manual":
                status = "pass"
        merged.append({**asdict(point), "status": status, "opinion": note})
    return all(p["status"] == "pass" for p in merged), merged
