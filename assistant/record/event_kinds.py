"""Every kind of signed case event, with the Chinese name officers and the public read.

Why one registry: an event kind is written once and stays in the signed record forever, and the
timeline, the progress inquiry and the archive all show it by name. `record_action` refuses a
kind that is not listed here, so a new event cannot reach the record without its name.

To add an event kind, add one line to the section of the code that writes it (a lifecycle act
also needs its entry in `ACTION_EVENTS` in assistant/cases/lifecycle.py). The module imports
nothing from the project, so every layer (and api/web) may read it.
"""

from __future__ import annotations

EVENT_KINDS: dict[str, str] = {
    # the case and its files (assistant/cases/service.py, evidence.py, transcripts.py, jobs/)
    "case_created": "立案",
    "case_updated": "修改案件信息",
    "recording_uploaded": "上传询问录音",
    "recording_transcribed": "录音转写完成",
    "segments_corrected": "更正转写",
    "evidence_uploaded": "上传证据材料",
    "evidence_read": "证据材料识别完成",
    # analysis steps: f"{step}_completed" for each step in assistant/cases/service.py STEPS
    "entities_completed": "要素提取",
    "retrieval_completed": "法条与类案检索",
    "discretion_completed": "裁量建议",
    # documents (assistant/cases/drafts.py, revisions.py)
    "document_drafted": "起草文书",
    "document_edited": "修改文书",
    "document_issued": "签发文书",
    # the lifecycle (assistant/cases/lifecycle.py ACTION_EVENTS, escalation.py)
    "legal_review": "法制审核",
    "resubmitted": "补正后重新提交审核",
    "review_escalated": "对审核意见提请协调",
    "escalation_decided": "协调/决定审核意见分歧",
    "approved": "负责人批准",
    "review_reopened": "重新提交审核",
    "notified": "告知",
    "hearing_requested": "申请听证",
    "hearing_scheduled": "通知听证",
    "hearing_held": "举行听证",
    "statement_recorded": "记录陈述申辩",
    "statement_reviewed": "复核陈述申辩",
    "committee_reviewed": "重大税务案件审理",
    "decided": "作出决定",
    "served": "送达",
    "executed": "执行",
    "closed": "结案归档",
    "referral_proposed": "提出移送",
    "referred": "批准移送司法机关",
    "referral_rejected": "不批准移送",
    "referral_declined_by_police": "公安机关不予立案",
    # publicity (assistant/publicity/service.py PUBLICATION_EVENTS)
    "publication_drafted": "生成公示草稿",
    "publication_published": "公示",
    "publication_withdrawn": "撤回公示",
    # measures and remedies (assistant/outcomes/service.py OUTCOME_ACTIONS)
    "enforcement_measure": "采取税收强制措施",
    "reconsideration_applied": "申请行政复议",
    "reconsideration_decided": "行政复议决定",
    "lawsuit_filed": "提起行政诉讼",
    "lawsuit_judged": "行政诉讼判决",
}


def event_name(kind: str) -> str:
    """The Chinese name of an event kind; the kind itself for one this version does not know
    (a record restored from a newer installation still shows every event)."""
    return EVENT_KINDS.get(kind, kind)


def require_known(kind: str) -> None:
    """Refuse to sign an event whose kind has no name: a programming error, caught by tests."""
    if kind not in EVENT_KINDS:
        raise ValueError(
            f"event kind {kind!r} is not registered in assistant/record/event_kinds.py EVENT_KINDS"
        )
